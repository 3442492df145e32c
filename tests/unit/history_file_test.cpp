#include "history_file.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pullguard {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::system_clock;

const system_clock::time_point kNow{seconds(1764334800)};

Observation at(system_clock::duration offset, std::int64_t remaining, std::int64_t limit = 100,
               std::int64_t window = 21600) {
  return {kNow + offset, remaining, limit, window};
}

std::vector<StoredBucket> sample() {
  return {
      {"anonymous",
       AddressFamily::kIpv4,
       "203.0.113.7",
       {at(-seconds(120), 100), at(-milliseconds(60500), 99), at(seconds(0), 97)}},
      {"ci-bot", AddressFamily::kAny, "a3f0c2d1-account", {at(-seconds(30), 180, 200, 3600)}},
      {"anonymous", AddressFamily::kIpv6, "2001:db8::", {}},
  };
}

// Wraps one bucket's observations in a valid file.
std::string withObservations(const std::string& observations) {
  return R"({"version":1,"saved_at":1764334800,"buckets":[{"identity":"a","family":"any",)"
         R"("source":"s","observations":[)" +
         observations + "]}]}";
}

std::string withBucket(const std::string& bucket) {
  return R"({"version":1,"saved_at":1764334800,"buckets":[)" + bucket + "]}";
}

TEST(HistoryFileTest, RoundTrip) {
  const std::string text = serializeHistory(sample(), kNow + milliseconds(900));
  const HistoryParse parsed = parseHistory(text);
  ASSERT_TRUE(parsed.buckets) << parsed.error;
  EXPECT_EQ(*parsed.buckets, sample());
  EXPECT_EQ(parsed.saved_at, kNow);
  EXPECT_EQ(parsed.error, "");
}

TEST(HistoryFileTest, WritesTheDocumentedFormat) {
  const std::vector<StoredBucket> buckets = {
      {"anonymous", AddressFamily::kIpv4, "203.0.113.7", {at(milliseconds(250), 42)}}};
  EXPECT_EQ(serializeHistory(buckets, kNow),
            R"({"buckets":[{"family":"ipv4","identity":"anonymous","observations":)"
            R"([[1764334800.25,42,100,21600]],"source":"203.0.113.7"}],)"
            R"("saved_at":1764334800,"version":1})"
            "\n");
}

TEST(HistoryFileTest, AcceptsIntegerTimesAndEmptyLists) {
  const auto parsed = parseHistory(withObservations("[1764334800,5,10,0],[1764334800,4,10,0]"));
  ASSERT_TRUE(parsed.buckets) << parsed.error;
  ASSERT_EQ(parsed.buckets->size(), 1u);
  EXPECT_EQ(parsed.buckets->front().observations,
            (std::vector<Observation>{{kNow, 5, 10, 0}, {kNow, 4, 10, 0}}));
  const auto empty = parseHistory(R"({"buckets":[],"version":1,"saved_at":0})");
  ASSERT_TRUE(empty.buckets) << empty.error;
  EXPECT_TRUE(empty.buckets->empty());
  EXPECT_TRUE(parseHistory(withObservations("")).buckets);
  EXPECT_TRUE(parseHistory(" \n" + withObservations("[0.0,0,0,0]") + "\n").buckets);
}

// Whatever the model hands it, a save must produce a file the next start accepts.
TEST(HistoryFileTest, WritesOnlyWhatItCanReadBack) {
  std::vector<StoredBucket> buckets = {
      {"a",
       AddressFamily::kAny,
       "bad \xff utf-8",
       {at(seconds(5), 3),
        at(seconds(1), 4),
        at(seconds(2), 101),
        at(seconds(3), -1),
        at(seconds(4), 1, 1, -5),
        {system_clock::time_point(-seconds(1)), 1, 1, 1}}},
      {"a", AddressFamily::kAny, "repeat", {at(seconds(0), 1)}},
  };
  const system_clock::time_point before_1970(-seconds(10));
  const HistoryParse parsed = parseHistory(serializeHistory(buckets, before_1970));
  ASSERT_TRUE(parsed.buckets) << parsed.error;
  ASSERT_EQ(parsed.buckets->size(), 1u);
  const StoredBucket& bucket = parsed.buckets->front();
  EXPECT_EQ(bucket.source, "bad \xef\xbf\xbd utf-8");
  EXPECT_EQ(bucket.observations, (std::vector<Observation>{at(seconds(1), 4), at(seconds(5), 3)}));
  EXPECT_EQ(parsed.saved_at, system_clock::time_point{});
}

TEST(HistoryFileTest, WritesAtMostTheCaps) {
  std::vector<StoredBucket> buckets(kMaxHistoryBuckets + 1);
  for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i].identity = std::to_string(i);
  for (std::size_t i = 0; i < kMaxObservationsPerBucket + 2; ++i) {
    buckets[0].observations.push_back(at(seconds(i), 1));
  }
  const HistoryParse parsed = parseHistory(serializeHistory(buckets, kNow));
  ASSERT_TRUE(parsed.buckets) << parsed.error;
  EXPECT_EQ(parsed.buckets->size(), kMaxHistoryBuckets);
  const auto& kept = parsed.buckets->front().observations;
  ASSERT_EQ(kept.size(), kMaxObservationsPerBucket);
  EXPECT_EQ(kept.front().at, kNow + seconds(2));  // the newest are kept
}

struct BadFile {
  std::string name;
  std::string text;
  std::string error;
};

TEST(HistoryFileTest, RejectsEveryBadFileWithOneLine) {
  const std::string ok_bucket = R"({"identity":"a","family":"any","source":"s","observations":[]})";
  const std::vector<BadFile> cases = {
      {"empty", "", "not valid JSON (at byte 1)"},
      {"syntax", R"({"version":1,)", "not valid JSON (at byte 14)"},
      {"trailing", withObservations("") + " Planted-Secret", "not valid JSON (at byte 112)"},
      {"array", "[]", "expected a JSON object"},
      {"number", "7", "expected a JSON object"},
      {"version 2", R"({"version":2,"saved_at":0,"buckets":[]})",
       "version: unsupported (this build reads 1)"},
      {"version string", R"({"version":"1","saved_at":0,"buckets":[]})",
       "expected version: a non-negative integer"},
      {"version float", R"({"version":1.0,"saved_at":0,"buckets":[]})", "version: not an integer"},
      {"no version", R"({"saved_at":0,"buckets":[]})", "no version"},
      {"no saved_at", R"({"version":1,"buckets":[]})", "no saved_at"},
      {"no buckets", R"({"version":1,"saved_at":0})", "no buckets"},
      {"unknown key", R"({"version":1,"saved_at":0,"buckets":[],"Planted-Secret":1})",
       "unknown key at the top level"},
      {"repeated key", R"({"version":1,"version":1,"saved_at":0,"buckets":[]})",
       "version: repeated key"},
      {"negative saved_at", R"({"version":1,"saved_at":-1,"buckets":[]})", "saved_at: is negative"},
      {"buckets object", R"({"version":1,"saved_at":0,"buckets":{}})",
       "expected buckets: an array"},
      {"bucket array", withBucket("[]"), "expected buckets[0]: an object"},
      {"bucket null", withBucket(ok_bucket + ",null"), "expected buckets[1]: an object"},
      {"no identity", withBucket(R"({"family":"any","source":"s","observations":[]})"),
       "buckets[0]: no identity"},
      {"no family", withBucket(R"({"identity":"a","source":"s","observations":[]})"),
       "buckets[0]: no family"},
      {"no source", withBucket(R"({"identity":"a","family":"any","observations":[]})"),
       "buckets[0]: no source"},
      {"no observations", withBucket(R"({"identity":"a","family":"any","source":"s"})"),
       "buckets[0]: no observations"},
      {"bucket unknown key", withBucket(R"({"identity":"a","Planted-Secret":"x"})"),
       "buckets[0]: unknown key"},
      {"bucket repeated key", withBucket(R"({"source":"a","source":"b"})"),
       "buckets[0].source: repeated key"},
      {"identity number", withBucket(R"({"identity":7})"),
       "expected buckets[0].identity: a string"},
      {"unknown family", withBucket(R"({"identity":"a","family":"Planted-Secret"})"),
       "buckets[0].family: unknown family (any, ipv4 or ipv6)"},
      {"observations object", withBucket(R"({"observations":{}})"),
       "expected buckets[0].observations: an array"},
      {"repeated bucket", withBucket(ok_bucket + "," + ok_bucket),
       "buckets[1]: repeats an earlier bucket's identity and family"},
      {"observation number", withObservations("5"),
       "expected buckets[0].observations[0]: an array of 4 numbers"},
      {"three numbers", withObservations("[0,1,2]"),
       "buckets[0].observations[0]: expected 4 numbers"},
      {"five numbers", withObservations("[0,1,2,3,4]"),
       "buckets[0].observations[0]: more than 4 numbers"},
      {"string in observation", withObservations(R"([0,"1",2,3])"),
       "expected buckets[0].observations[0].remaining: a number"},
      {"nested", withObservations("[[0],1,2,3]"),
       "expected buckets[0].observations[0].time: a number"},
      {"negative time", withObservations("[-1,1,2,3]"),
       "buckets[0].observations[0].time: is negative"},
      {"negative float time", withObservations("[-0.5,1,2,3]"),
       "buckets[0].observations[0].time: is negative"},
      {"negative remaining", withObservations("[0,-1,2,3]"),
       "buckets[0].observations[0].remaining: is negative"},
      {"negative limit", withObservations("[0,1,-2,3]"),
       "buckets[0].observations[0].limit: is negative"},
      {"negative window", withObservations("[0,1,2,-3]"),
       "buckets[0].observations[0].window_seconds: is negative"},
      {"float remaining", withObservations("[0,1.5,2,3]"),
       "buckets[0].observations[0].remaining: not an integer"},
      {"huge time", withObservations("[1e20,1,2,3]"),
       "buckets[0].observations[0].time: out of range"},
      {"huge integer time", withObservations("[9223372037,1,2,3]"),
       "buckets[0].observations[0].time: out of range"},
      {"huge limit", withObservations("[0,1,9223372036854775808,3]"),
       "buckets[0].observations[0].limit: out of range"},
      {"remaining over limit", withObservations("[0,3,2,3]"),
       "buckets[0].observations[0]: remaining exceeds limit"},
      {"unsorted", withObservations("[10.5,1,2,3],[10.25,1,2,3]"),
       "buckets[0].observations[1].time: earlier than the observation before it"},
      {"too large", std::string(kMaxHistoryBytes + 1, ' '), "larger than 16 MiB"},
  };
  for (const BadFile& bad : cases) {
    SCOPED_TRACE(bad.name);
    const HistoryParse parsed = parseHistory(bad.text);
    EXPECT_FALSE(parsed.buckets);
    EXPECT_EQ(parsed.error, bad.error);
    EXPECT_EQ(parsed.error.find("Planted-Secret"), std::string::npos);
    EXPECT_EQ(parsed.error.find('\n'), std::string::npos);
  }
}

TEST(HistoryFileTest, StopsAtTheCaps) {
  std::string observations;
  for (std::size_t i = 0; i <= kMaxObservationsPerBucket; ++i) {
    observations += (i ? ",[" : "[") + std::to_string(i) + ",1,1,0]";
  }
  EXPECT_EQ(parseHistory(withObservations(observations)).error,
            "buckets[0].observations: more than 10000");
  std::string buckets;
  for (std::size_t i = 0; i <= kMaxHistoryBuckets; ++i) {
    buckets += std::string(i ? "," : "") + R"({"identity":")" + std::to_string(i) +
               R"(","family":"any","source":"","observations":[]})";
  }
  EXPECT_EQ(parseHistory(withBucket(buckets)).error, "buckets: more than 1000");
}

TEST(HistoryFileTest, DeepNestingIsAnErrorNotAStackOfContainers) {
  EXPECT_EQ(parseHistory(std::string(100000, '[')).error, "expected a JSON object");
  EXPECT_EQ(parseHistory(withObservations(std::string(100000, '['))).error,
            "expected buckets[0].observations[0].time: a number");
}

TEST(HistoryFileTest, PruneKeepsTheNewestWindow) {
  std::vector<StoredBucket> buckets = {
      {"hourly",
       AddressFamily::kAny,
       "s",
       {at(-seconds(7200), 9, 10, 3600), at(-seconds(3600), 8, 10, 3600),
        at(-seconds(10), 7, 10, 3600)}},
      {"old", AddressFamily::kAny, "s", {at(-seconds(90000), 1)}},
      {"no window",
       AddressFamily::kAny,
       "s",
       {at(-seconds(700), 5, 10, 0), at(-seconds(500), 4, 10, 0)}},
      {"future", AddressFamily::kAny, "s", {at(-seconds(1), 5), at(seconds(60), 4)}},
  };
  pruneHistory(buckets, kNow, seconds(600));
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[0].observations, (std::vector<Observation>{at(-seconds(3600), 8, 10, 3600),
                                                               at(-seconds(10), 7, 10, 3600)}));
  EXPECT_EQ(buckets[1].identity, "no window");
  EXPECT_EQ(buckets[1].observations, (std::vector<Observation>{at(-seconds(500), 4, 10, 0)}));
  EXPECT_EQ(buckets[2].observations, (std::vector<Observation>{at(-seconds(1), 5)}));
}

TEST(HistoryFileTest, PruneWithALongerKeepAndAHugeWindow) {
  std::vector<StoredBucket> buckets = {
      {"a", AddressFamily::kAny, "s", {at(-seconds(7200), 9, 10, 3600)}},
      {"b",
       AddressFamily::kAny,
       "s",
       {at(-seconds(400LL * 86400), 1, 1, 0), at(-seconds(1), 1, 1, INT64_MAX)}},
  };
  pruneHistory(buckets, kNow, seconds(86400));
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0].observations.size(), 1u);
  EXPECT_EQ(buckets[1].observations.size(), 1u);  // a window is capped at a year
}

}  // namespace
}  // namespace pullguard
