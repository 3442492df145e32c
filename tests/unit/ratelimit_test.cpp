#include "ratelimit.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pullguard {
namespace {

struct QuotaCase {
  std::string input;
  std::optional<std::int64_t> count;  // nullopt: not parseable
  std::optional<std::int64_t> window;
};

TEST(ParseQuotaValue, ReadsLeniently) {
  const QuotaCase cases[] = {
      {"100;w=21600", 100, 21600},
      {"0;w=21600", 0, 21600},
      {"2500;w=21600", 2500, 21600},
      {"40;w=3600", 40, 3600},
      {"100", 100, std::nullopt},
      {"  100 ", 100, std::nullopt},
      {"100; w=21600", 100, 21600},
      {" 100 ; w = 21600 ", 100, 21600},
      {"100;W=21600", 100, 21600},
      {"\t100;w=21600", 100, 21600},
      {"200=21600", 200, std::nullopt},  // malformed header seen in the wild
      {"100;comment=\"x\";w=60", 100, 60},
      {"100;w=21600;w=60", 100, 21600},
      {"100;w=abc", 100, std::nullopt},
      {"100;w=-5", 100, std::nullopt},
      {"100;w=0", 100, std::nullopt},
      {"100;w=99999999999999999999", 100, std::nullopt},
      {"100;window=60", 100, std::nullopt},
      {"100;", 100, std::nullopt},
      {"100, 100;w=21600", 100, 21600},
      {"9223372036854775807", 9223372036854775807, std::nullopt},
      {"", std::nullopt, std::nullopt},
      {"   ", std::nullopt, std::nullopt},
      {"abc", std::nullopt, std::nullopt},
      {"-1;w=21600", std::nullopt, std::nullopt},
      {"+1", std::nullopt, std::nullopt},
      {";w=21600", std::nullopt, std::nullopt},
      {"9223372036854775808", std::nullopt, std::nullopt},
      {"99999999999999999999999;w=21600", std::nullopt, std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("input: \"" + c.input + "\"");
    const auto quota = parseQuotaValue(c.input);
    ASSERT_EQ(quota.has_value(), c.count.has_value());
    if (!quota) continue;
    EXPECT_EQ(quota->count, *c.count);
    EXPECT_EQ(quota->window_seconds, c.window);
  }
}

TEST(ParseRateLimit, ReadsDocumentedExample) {
  const HttpHeaders headers = {{"ratelimit-limit", "100;w=21600"},
                               {"ratelimit-remaining", "20;w=21600"},
                               {"docker-ratelimit-source", "192.0.2.1"}};
  const auto reading = parseRateLimit(headers);
  EXPECT_EQ(reading.status, RateLimitStatus::kPresent);
  EXPECT_EQ(reading.limit, 100);
  EXPECT_EQ(reading.remaining, 20);
  EXPECT_EQ(reading.window_seconds, 21600);
  EXPECT_EQ(reading.source, "192.0.2.1");
  EXPECT_EQ(reading.error, "");
}

// The source becomes a label: a registry cannot make it huge or put control bytes in it.
TEST(ParseRateLimit, BoundsTheSource) {
  const HttpHeaders headers = {
      {"ratelimit-limit", "100;w=21600"},
      {"ratelimit-remaining", "7;w=21600"},
      {"docker-ratelimit-source", " 203.0.113.7\n\x01" + std::string(500, 'a')}};
  const RateLimitReading reading = parseRateLimit(headers);
  EXPECT_EQ(reading.status, RateLimitStatus::kPresent);
  EXPECT_EQ(reading.source.size(), 64u);
  EXPECT_TRUE(reading.source.starts_with("203.0.113.7aaa"));
}

TEST(ParseRateLimit, AcceptsCapitalisedNames) {
  const HttpHeaders headers = {{"RateLimit-Limit", "200;w=21600"},
                               {"RateLimit-Remaining", "199;w=21600"},
                               {"Docker-RateLimit-Source", "186e63fa-abf0-4deb-a711-0dbd34c4a821"}};
  const auto reading = parseRateLimit(headers);
  EXPECT_EQ(reading.status, RateLimitStatus::kPresent);
  EXPECT_EQ(reading.limit, 200);
  EXPECT_EQ(reading.remaining, 199);
  EXPECT_EQ(reading.source, "186e63fa-abf0-4deb-a711-0dbd34c4a821");
}

TEST(ParseRateLimit, AcceptsMalformedLimitWithoutWindow) {
  const HttpHeaders headers = {{"RateLimit-Limit", "200=21600"},
                               {"RateLimit-Remaining", "150=21600"}};
  const auto reading = parseRateLimit(headers);
  EXPECT_EQ(reading.status, RateLimitStatus::kPresent);
  EXPECT_EQ(reading.limit, 200);
  EXPECT_EQ(reading.remaining, 150);
  EXPECT_EQ(reading.window_seconds, std::nullopt);  // never assumed to be 21600
}

TEST(ParseRateLimit, TakesWindowFromRemainingThenLimit) {
  const struct {
    std::string limit;
    std::string remaining;
    std::optional<std::int64_t> window;
  } cases[] = {
      {"100;w=21600", "20;w=3600", 3600},
      {"100;w=21600", "20", 21600},
      {"100", "20;w=3600", 3600},
      {"100", "20", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.limit + " / " + c.remaining);
    const auto reading =
        parseRateLimit({{"ratelimit-limit", c.limit}, {"ratelimit-remaining", c.remaining}});
    EXPECT_EQ(reading.status, RateLimitStatus::kPresent);
    EXPECT_EQ(reading.window_seconds, c.window);
  }
}

TEST(ParseRateLimit, ReportsAbsentHeadersWithSource) {
  const auto paid = parseRateLimit(
      {{"docker-ratelimit-source", " 2600:3c00:: "}, {"content-type", "application/json"}});
  EXPECT_EQ(paid.status, RateLimitStatus::kAbsent);
  EXPECT_EQ(paid.source, "2600:3c00::");
  EXPECT_EQ(paid.error, "");

  const auto none = parseRateLimit({});
  EXPECT_EQ(none.status, RateLimitStatus::kAbsent);
  EXPECT_EQ(none.source, "");
}

TEST(ParseRateLimit, ReportsMalformedHeaders) {
  const struct {
    HttpHeaders headers;
    std::string error;
  } cases[] = {
      {{{"ratelimit-remaining", "20;w=21600"}}, "ratelimit-limit header missing"},
      {{{"ratelimit-limit", "100;w=21600"}}, "ratelimit-remaining header missing"},
      {{{"ratelimit-limit", "100"}, {"ratelimit-remaining", "abc"}},
       "ratelimit-remaining: \"abc\" is not a count"},
      {{{"ratelimit-limit", "-1"}, {"ratelimit-remaining", "0"}},
       "ratelimit-limit: \"-1\" is not a count"},
      {{{"ratelimit-limit", ""}, {"ratelimit-remaining", "0"}},
       "ratelimit-limit: \"\" is not a count"},
      {{{"ratelimit-limit", "99999999999999999999"}, {"ratelimit-remaining", "0"}},
       "ratelimit-limit: \"99999999999999999999\" is not a count"},
      {{{"ratelimit-limit", "x\r\n\"y\"\x01"}, {"ratelimit-remaining", "0"}},
       "ratelimit-limit: \"x\\\"y\\\"\" is not a count"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.error);
    const auto reading = parseRateLimit(c.headers);
    EXPECT_EQ(reading.status, RateLimitStatus::kMalformed);
    EXPECT_EQ(reading.error, c.error);
  }
}

TEST(ParseRateLimit, KeepsSourceWhenMalformed) {
  const auto reading =
      parseRateLimit({{"ratelimit-limit", "100"}, {"docker-ratelimit-source", "192.0.2.1"}});
  EXPECT_EQ(reading.status, RateLimitStatus::kMalformed);
  EXPECT_EQ(reading.source, "192.0.2.1");
}

TEST(ParseRateLimit, BoundsErrorLineForHugeHeader) {
  std::string huge = "x";
  for (int i = 0; i < 20; ++i) huge += huge;  // 1 MiB
  huge += "\n";
  const auto reading = parseRateLimit({{"ratelimit-limit", "1"}, {"ratelimit-remaining", huge}});
  EXPECT_EQ(reading.status, RateLimitStatus::kMalformed);
  EXPECT_LT(reading.error.size(), 100u);
  EXPECT_EQ(reading.error.find('\n'), std::string::npos);
  EXPECT_EQ(reading.error,
            "ratelimit-remaining: \"" + std::string(40, 'x') + "...\" is not a count");
}

}  // namespace
}  // namespace pullguard
