#include "history_file.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

namespace pullguard {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::system_clock;

// Times are stored to the millisecond; the last one system_clock (nanoseconds) can hold.
constexpr std::int64_t kMaxUnixMilliseconds =
    std::chrono::duration_cast<milliseconds>(system_clock::duration::max()).count();

std::int64_t unixMilliseconds(system_clock::time_point at) {
  return std::chrono::floor<milliseconds>(at.time_since_epoch()).count();
}

system_clock::time_point fromUnixMilliseconds(std::int64_t ms) {
  return system_clock::time_point(
      std::chrono::duration_cast<system_clock::duration>(milliseconds(ms)));
}

// The rules parseHistory enforces on one observation, so serializeHistory writes only these.
bool storable(const Observation& o) {
  return unixMilliseconds(o.at) >= 0 && o.remaining >= 0 && o.limit >= 0 && o.window_seconds >= 0 &&
         o.remaining <= o.limit;
}

Json observationsJson(const std::vector<Observation>& observations) {
  std::vector<Observation> kept;
  std::copy_if(observations.begin(), observations.end(), std::back_inserter(kept), storable);
  std::stable_sort(kept.begin(), kept.end(),
                   [](const Observation& a, const Observation& b) { return a.at < b.at; });
  const std::size_t skip =
      kept.size() > kMaxObservationsPerBucket ? kept.size() - kMaxObservationsPerBucket : 0;
  Json array = Json::array();
  for (std::size_t i = skip; i < kept.size(); ++i) {
    const Observation& o = kept[i];
    const double seconds = static_cast<double>(unixMilliseconds(o.at)) / 1000.0;
    array.push_back(Json::array({seconds, o.remaining, o.limit, o.window_seconds}));
  }
  return array;
}

// Reads the fixed schema event by event (nlohmann's SAX interface) instead of building a DOM:
// memory stays proportional to the buckets kept, the caps stop a hostile file at the first
// element past them, and nesting deeper than the schema is an error instead of a stack of
// containers.
class HistoryReader {
 public:
  // Keys seen in the object being read; each bit is one key.
  enum Key : unsigned {
    kVersion = 1,
    kSavedAt = 2,
    kBuckets = 4,
    kIdentity = 8,
    kFamily = 16,
    kSource = 32,
    kObservations = 64,
  };

  bool null() { return fail(unexpected()); }
  bool boolean(bool) { return null(); }
  bool binary(Json::binary_t&) { return null(); }
  bool number_integer(Json::number_integer_t value) {
    if (value >= 0) return number_unsigned(static_cast<Json::number_unsigned_t>(value));
    return wantsNumber() ? fail(place() + "is negative") : null();
  }
  bool number_unsigned(Json::number_unsigned_t value);
  bool number_float(Json::number_float_t value, const Json::string_t&);
  bool wantsNumber() const {
    return (level_ == Level::kObservation && field_count_ < 4) ||
           (level_ == Level::kRoot && key_ != kBuckets);
  }
  bool string(Json::string_t& value);
  bool start_object(std::size_t);
  bool end_object();
  bool start_array(std::size_t);
  bool end_array();
  bool key(Json::string_t& name);
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) {
    // The library's message quotes the text near the error; the position is enough.
    return fail("not valid JSON (at byte " + std::to_string(position) + ")");
  }

  HistoryParse finish(bool parsed);

 private:
  enum class Level { kTop, kRoot, kBucketList, kBucket, kObservationList, kObservation, kDone };

  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  std::string bucketPlace() const { return "buckets[" + std::to_string(buckets_.size()) + "]"; }
  std::string observationPlace() const {
    return bucketPlace() + ".observations[" + std::to_string(bucket_.observations.size()) + "]";
  }
  // Where the value being read goes, ending in ": ".
  std::string place() const;
  // The error for a value or container the schema has no place for here.
  std::string unexpected() const;
  bool see(unsigned& seen, Key key, std::string_view where);
  bool observationNumber(std::int64_t value);
  bool observationTime(std::int64_t ms);

  Level level_ = Level::kTop;
  Key key_ = kVersion;  // the member whose value comes next
  unsigned root_keys_ = 0;
  unsigned bucket_keys_ = 0;
  bool version_ok_ = false;
  std::int64_t saved_at_ = 0;
  std::vector<StoredBucket> buckets_;
  StoredBucket bucket_;
  std::set<std::pair<std::string, AddressFamily>> bucket_ids_;
  std::int64_t fields_[4] = {};  // of the observation being read: ms, remaining, limit, window
  std::size_t field_count_ = 0;
  std::string error_;
};

std::string HistoryReader::place() const {
  static constexpr const char* kFields[] = {"time", "remaining", "limit", "window_seconds"};
  switch (level_) {
    case Level::kRoot:
      return key_ == kVersion ? "version: " : key_ == kSavedAt ? "saved_at: " : "buckets: ";
    case Level::kBucket:
      return bucketPlace() + (key_ == kIdentity ? ".identity: "
                              : key_ == kFamily ? ".family: "
                              : key_ == kSource ? ".source: "
                                                : ".observations: ");
    case Level::kObservationList:
      return observationPlace() + ": ";
    case Level::kObservation:
      if (field_count_ >= 4) return observationPlace() + ": ";
      return observationPlace() + "." + kFields[field_count_] + ": ";
    case Level::kBucketList:
      return bucketPlace() + ": ";
    case Level::kTop:
    case Level::kDone:
      break;
  }
  return "";
}

std::string HistoryReader::unexpected() const {
  switch (level_) {
    case Level::kTop:
      return "expected a JSON object";
    case Level::kRoot:
      return "expected " + place() + (key_ == kBuckets ? "an array" : "a non-negative integer");
    case Level::kBucketList:
      return "expected " + place() + "an object";
    case Level::kBucket:
      return "expected " + place() + (key_ == kObservations ? "an array" : "a string");
    case Level::kObservationList:
      return "expected " + place() + "an array of 4 numbers";
    case Level::kObservation:
      return field_count_ < 4 ? "expected " + place() + "a number"
                              : observationPlace() + ": more than 4 numbers";
    case Level::kDone:
      break;
  }
  return "unexpected content after the end";
}

bool HistoryReader::see(unsigned& seen, Key key, std::string_view where) {
  if (seen & key) return fail(std::string(where) + "repeated key");
  seen |= key;
  key_ = key;
  return true;
}

bool HistoryReader::key(Json::string_t& name) {
  if (level_ == Level::kRoot) {
    if (name == "version") return see(root_keys_, kVersion, "version: ");
    if (name == "saved_at") return see(root_keys_, kSavedAt, "saved_at: ");
    if (name == "buckets") return see(root_keys_, kBuckets, "buckets: ");
    return fail("unknown key at the top level");
  }
  const std::string where = bucketPlace() + ".";
  if (name == "identity") return see(bucket_keys_, kIdentity, where + "identity: ");
  if (name == "family") return see(bucket_keys_, kFamily, where + "family: ");
  if (name == "source") return see(bucket_keys_, kSource, where + "source: ");
  if (name == "observations") return see(bucket_keys_, kObservations, where + "observations: ");
  return fail(bucketPlace() + ": unknown key");
}

bool HistoryReader::number_unsigned(Json::number_unsigned_t value) {
  if (value > static_cast<Json::number_unsigned_t>(std::numeric_limits<std::int64_t>::max())) {
    return fail(place() + "out of range");
  }
  const auto number = static_cast<std::int64_t>(value);
  if (level_ == Level::kObservation) {
    if (field_count_ == 0) {
      if (number > kMaxUnixMilliseconds / 1000) return fail(place() + "out of range");
      return observationTime(number * 1000);
    }
    return observationNumber(number);
  }
  if (level_ == Level::kRoot && key_ == kVersion) {
    version_ok_ = number == kHistoryVersion;
    return version_ok_ || fail("version: unsupported (this build reads 1)");
  }
  if (level_ == Level::kRoot && key_ == kSavedAt) {
    saved_at_ = number;
    return number <= kMaxUnixMilliseconds / 1000 || fail(place() + "out of range");
  }
  return null();
}

bool HistoryReader::number_float(Json::number_float_t value, const Json::string_t&) {
  if (level_ != Level::kObservation || field_count_ != 0) {
    return wantsNumber() ? fail(place() + "not an integer") : null();
  }
  if (!std::isfinite(value)) return fail(place() + "out of range");
  if (value < 0) return fail(place() + "is negative");
  const double ms = value * 1000.0;
  if (ms > static_cast<double>(kMaxUnixMilliseconds)) return fail(place() + "out of range");
  return observationTime(std::llround(ms));
}

bool HistoryReader::observationTime(std::int64_t ms) {
  if (!bucket_.observations.empty() && ms < unixMilliseconds(bucket_.observations.back().at)) {
    return fail(place() + "earlier than the observation before it");
  }
  return observationNumber(ms);
}

bool HistoryReader::observationNumber(std::int64_t value) {
  if (field_count_ >= 4) return null();
  fields_[field_count_++] = value;
  return true;
}

bool HistoryReader::string(Json::string_t& value) {
  if (level_ != Level::kBucket || key_ == kObservations) return null();
  if (key_ == kIdentity) {
    bucket_.identity = std::move(value);
  } else if (key_ == kSource) {
    bucket_.source = std::move(value);
  } else if (const auto family = parseFamily(value)) {
    bucket_.family = *family;
  } else {
    return fail(place() + "unknown family (any, ipv4 or ipv6)");
  }
  return true;
}

bool HistoryReader::start_object(std::size_t) {
  if (level_ == Level::kTop) {
    level_ = Level::kRoot;
    return true;
  }
  if (level_ != Level::kBucketList) return null();
  if (buckets_.size() >= kMaxHistoryBuckets) {
    return fail("buckets: more than " + std::to_string(kMaxHistoryBuckets));
  }
  bucket_ = StoredBucket{};
  bucket_keys_ = 0;
  level_ = Level::kBucket;
  return true;
}

bool HistoryReader::end_object() {
  if (level_ == Level::kRoot) {
    if (!(root_keys_ & kVersion)) return fail("no version");
    if (!(root_keys_ & kSavedAt)) return fail("no saved_at");
    if (!(root_keys_ & kBuckets)) return fail("no buckets");
    level_ = Level::kDone;
    return true;
  }
  // Only a bucket object can end here: any other level rejected its start.
  constexpr unsigned kAll = kIdentity | kFamily | kSource | kObservations;
  if (bucket_keys_ != kAll) {
    const char* missing = !(bucket_keys_ & kIdentity) ? "identity"
                          : !(bucket_keys_ & kFamily) ? "family"
                          : !(bucket_keys_ & kSource) ? "source"
                                                      : "observations";
    return fail(bucketPlace() + ": no " + missing);
  }
  if (!bucket_ids_.emplace(bucket_.identity, bucket_.family).second) {
    return fail(bucketPlace() + ": repeats an earlier bucket's identity and family");
  }
  buckets_.push_back(std::move(bucket_));
  level_ = Level::kBucketList;
  return true;
}

bool HistoryReader::start_array(std::size_t) {
  if (level_ == Level::kRoot && key_ == kBuckets) {
    level_ = Level::kBucketList;
  } else if (level_ == Level::kBucket && key_ == kObservations) {
    level_ = Level::kObservationList;
  } else if (level_ == Level::kObservationList) {
    if (bucket_.observations.size() >= kMaxObservationsPerBucket) {
      return fail(bucketPlace() + ".observations: more than " +
                  std::to_string(kMaxObservationsPerBucket));
    }
    field_count_ = 0;
    level_ = Level::kObservation;
  } else {
    return null();
  }
  return true;
}

bool HistoryReader::end_array() {
  switch (level_) {
    case Level::kBucketList:
      level_ = Level::kRoot;
      return true;
    case Level::kObservationList:
      level_ = Level::kBucket;
      return true;
    case Level::kObservation:
      break;
    default:
      return null();  // not reached: the parser pairs brackets and we opened only these
  }
  if (field_count_ != 4) return fail(observationPlace() + ": expected 4 numbers");
  const Observation o{fromUnixMilliseconds(fields_[0]), fields_[1], fields_[2], fields_[3]};
  if (o.remaining > o.limit) return fail(observationPlace() + ": remaining exceeds limit");
  bucket_.observations.push_back(o);
  level_ = Level::kObservationList;
  return true;
}

HistoryParse HistoryReader::finish(bool parsed) {
  if (!parsed || level_ != Level::kDone) {
    return {std::nullopt, {}, error_.empty() ? "not a JSON object" : error_};
  }
  if (!version_ok_) return {std::nullopt, {}, "version: unsupported (this build reads 1)"};
  return {std::move(buckets_), system_clock::time_point(std::chrono::seconds(saved_at_)), {}};
}

}  // namespace

std::string serializeHistory(const std::vector<StoredBucket>& buckets,
                             system_clock::time_point saved_at) {
  Json list = Json::array();
  std::set<std::pair<std::string, AddressFamily>> written;
  for (const StoredBucket& bucket : buckets) {
    if (list.size() >= kMaxHistoryBuckets) break;
    if (!written.emplace(bucket.identity, bucket.family).second) continue;
    list.push_back({{"identity", bucket.identity},
                    {"family", std::string(familyName(bucket.family))},
                    {"source", bucket.source},
                    {"observations", observationsJson(bucket.observations)}});
  }
  const auto seconds = std::chrono::floor<std::chrono::seconds>(saved_at.time_since_epoch());
  const Json root = {{"version", kHistoryVersion},
                     {"saved_at", std::max<std::int64_t>(seconds.count(), 0)},
                     {"buckets", std::move(list)}};
  // A source comes from a response header and may hold bytes that are not UTF-8; dump() would
  // throw on them.
  return root.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

HistoryParse parseHistory(std::string_view text) {
  if (text.size() > kMaxHistoryBytes) {
    return {std::nullopt, {}, "larger than " + std::to_string(kMaxHistoryBytes >> 20) + " MiB"};
  }
  HistoryReader reader;
  const bool parsed = Json::sax_parse(text.begin(), text.end(), &reader);
  return reader.finish(parsed);
}

void pruneHistory(std::vector<StoredBucket>& buckets, system_clock::time_point now,
                  std::chrono::seconds keep_at_least) {
  // A window longer than a year is no real registry's; the clamp keeps `now - window` in range.
  constexpr std::int64_t kMaxWindowSeconds = 366 * 24 * 3600;
  for (StoredBucket& bucket : buckets) {
    auto& observations = bucket.observations;
    std::erase_if(observations, [&](const Observation& o) { return o.at > now; });
    if (observations.empty()) continue;
    const std::int64_t window =
        std::clamp<std::int64_t>(observations.back().window_seconds, 0, kMaxWindowSeconds);
    const std::int64_t keep =
        std::clamp<std::int64_t>(keep_at_least.count(), window, kMaxWindowSeconds);
    const auto cutoff = now - std::chrono::seconds(keep);
    std::erase_if(observations, [&](const Observation& o) { return o.at < cutoff; });
  }
  std::erase_if(buckets, [](const StoredBucket& b) { return b.observations.empty(); });
}

}  // namespace pullguard
