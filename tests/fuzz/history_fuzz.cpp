// libFuzzer target for the budget history's file format. A file that parses must hold what the
// parser promises and survive a serialize/parse round trip unchanged; one that does not gets a
// one-line error.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "history_file.hpp"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

// The error goes into one log line whatever the file held.
void checkErrorLine(std::string_view error) {
  check(!error.empty() && error.size() < 200);
  for (const char c : error) check(c >= 0x20 && c < 0x7f);
}

void checkBuckets(const std::vector<pullguard::StoredBucket>& buckets) {
  check(buckets.size() <= pullguard::kMaxHistoryBuckets);
  for (const auto& bucket : buckets) {
    check(bucket.observations.size() <= pullguard::kMaxObservationsPerBucket);
    for (std::size_t i = 0; i < bucket.observations.size(); ++i) {
      const auto& o = bucket.observations[i];
      check(o.at.time_since_epoch().count() >= 0);
      check(o.remaining >= 0 && o.limit >= 0 && o.window_seconds >= 0);
      check(o.remaining <= o.limit);
      check(i == 0 || bucket.observations[i - 1].at <= o.at);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = pullguard::parseHistory(text);
  if (!parsed.buckets) {
    checkErrorLine(parsed.error);
    return 0;
  }
  check(parsed.error.empty());
  checkBuckets(*parsed.buckets);

  const auto again =
      pullguard::parseHistory(pullguard::serializeHistory(*parsed.buckets, parsed.saved_at));
  check(again.buckets && *again.buckets == *parsed.buckets && again.saved_at == parsed.saved_at);

  // Pruning at any moment leaves a history that still round-trips.
  const auto now = parsed.buckets->empty() || parsed.buckets->front().observations.empty()
                       ? parsed.saved_at
                       : parsed.buckets->front().observations.back().at;
  pullguard::pruneHistory(*parsed.buckets, now, std::chrono::seconds(size));
  checkBuckets(*parsed.buckets);
  for (const auto& bucket : *parsed.buckets) check(!bucket.observations.empty());
  const auto pruned = pullguard::parseHistory(pullguard::serializeHistory(*parsed.buckets, now));
  check(pruned.buckets && *pruned.buckets == *parsed.buckets);
  return 0;
}
