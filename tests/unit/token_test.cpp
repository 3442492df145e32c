#include "token.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pullguard {
namespace {

using std::chrono::system_clock;

system_clock::time_point utc(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  const auto day = std::chrono::sys_days(std::chrono::year_month_day(
      std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)));
  return system_clock::time_point(day) + std::chrono::hours(hh) + std::chrono::minutes(mm) +
         std::chrono::seconds(ss);
}

TEST(ParseTokenResponse, ReadsDockerHubReply) {
  const auto result = parseTokenResponse(
      R"({"token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","access_token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln",)"
      R"("expires_in":300,"issued_at":"2022-11-01T06:11:20.10593176Z"})");
  ASSERT_TRUE(result.value.has_value()) << result.error;
  EXPECT_EQ(result.value->token, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
  EXPECT_EQ(result.value->expires_in_seconds, 300);
  ASSERT_TRUE(result.value->issued_at.has_value());
  EXPECT_EQ(*result.value->issued_at,
            utc(2022, 11, 1, 6, 11, 20) + std::chrono::nanoseconds(105931760));
  EXPECT_EQ(result.error, "");
}

TEST(ParseTokenResponse, ChoosesTokenField) {
  const struct {
    std::string body;
    std::string token;
  } cases[] = {
      {R"({"token":"a"})", "a"},
      {R"({"access_token":"b"})", "b"},
      {R"({"token":"a","access_token":"b"})", "a"},
      {R"({"token":"","access_token":"b"})", "b"},
      {R"({"token":null,"access_token":"b"})", "b"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    const auto result = parseTokenResponse(c.body);
    ASSERT_TRUE(result.value.has_value()) << result.error;
    EXPECT_EQ(result.value->token, c.token);
  }
}

TEST(ParseTokenResponse, ClampsLifetime) {
  const struct {
    std::string expires_in;  // JSON text, empty: member absent
    std::int64_t seconds;
  } cases[] = {
      {"", 60},
      {"300", 300},
      {"60", 60},
      {"59", 60},
      {"0", 60},
      {"-5", 60},
      {"null", 60},
      {"300.9", 300},
      {"1.5", 60},
      {"3e2", 300},
      {"-1e300", 60},
      {"1e300", 86400},
      {"18446744073709551615", 86400},
      {"7200", 7200},
      {"-9223372036854775808", 60},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.expires_in);
    const std::string body = c.expires_in.empty()
                                 ? std::string(R"({"token":"t"})")
                                 : R"({"token":"t","expires_in":)" + c.expires_in + "}";
    const auto result = parseTokenResponse(body);
    ASSERT_TRUE(result.value.has_value()) << result.error;
    EXPECT_EQ(result.value->expires_in_seconds, c.seconds);
  }
}

TEST(ParseTokenResponse, IgnoresUnreadableIssuedAt) {
  for (const std::string issued_at : {R"("yesterday")", R"("")", "12345", "null", "[]"}) {
    SCOPED_TRACE(issued_at);
    const auto result = parseTokenResponse(R"({"token":"t","issued_at":)" + issued_at + "}");
    ASSERT_TRUE(result.value.has_value()) << result.error;
    EXPECT_FALSE(result.value->issued_at.has_value());
  }
}

TEST(ParseTokenResponse, RejectsBadBodiesWithoutQuotingThem) {
  const struct {
    std::string body;
    std::string error;
  } cases[] = {
      {"", "token response is not a JSON object"},
      {"<html>secret-token</html>", "token response is not a JSON object"},
      {R"(["secret-token"])", "token response is not a JSON object"},
      {R"("secret-token")", "token response is not a JSON object"},
      {R"({"token":"secret-token")", "token response is not a JSON object"},
      {"{}", "token response has no token or access_token"},
      {R"({"token":"","access_token":""})", "token response has no token or access_token"},
      {R"({"token":42})", "token response has no token or access_token"},
      {R"({"token":"secret-token","expires_in":"300"})",
       "token response: expires_in is not a number"},
      {R"({"token":"secret-token","expires_in":true})",
       "token response: expires_in is not a number"},
      {R"({"token":"secret\r\nX-Injected: 1"})",
       "token response: token has characters not allowed in an HTTP header"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    const auto result = parseTokenResponse(c.body);
    EXPECT_FALSE(result.value.has_value());
    EXPECT_EQ(result.error, c.error);
    EXPECT_EQ(result.error.find("secret"), std::string::npos);
  }
}

TEST(ParseRfc3339, ReadsValidTimes) {
  using std::chrono::nanoseconds;
  const struct {
    std::string text;
    system_clock::time_point expected;
  } cases[] = {
      {"2022-11-01T06:11:20Z", utc(2022, 11, 1, 6, 11, 20)},
      {"2022-11-01t06:11:20z", utc(2022, 11, 1, 6, 11, 20)},
      {"2022-11-01T06:11:20.10593176Z", utc(2022, 11, 1, 6, 11, 20) + nanoseconds(105931760)},
      {"2022-11-01T06:11:20.5Z", utc(2022, 11, 1, 6, 11, 20) + nanoseconds(500000000)},
      {"2022-11-01T06:11:20.1234567891234Z", utc(2022, 11, 1, 6, 11, 20) + nanoseconds(123456789)},
      {"2022-11-01T08:11:20+02:00", utc(2022, 11, 1, 6, 11, 20)},
      {"2022-11-01T00:41:20-05:30", utc(2022, 11, 1, 6, 11, 20)},
      {"2022-11-01T06:11:20+00:00", utc(2022, 11, 1, 6, 11, 20)},
      {"1970-01-01T00:00:00Z", system_clock::time_point()},
      {"1969-12-31T23:59:59Z", system_clock::time_point() - std::chrono::seconds(1)},
      {"2024-02-29T12:00:00Z", utc(2024, 2, 29, 12, 0, 0)},
      {"2000-02-29T12:00:00Z", utc(2000, 2, 29, 12, 0, 0)},
      {"2016-12-31T23:59:60Z", utc(2017, 1, 1, 0, 0, 0)},
      {"2000-01-01T00:30:00+01:00", utc(1999, 12, 31, 23, 30, 0)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto parsed = parseRfc3339(c.text);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, c.expected);
  }
}

TEST(ParseRfc3339, RejectsInvalidTimes) {
  for (const std::string text : {
           "",
           "2022-11-01",
           "2022-11-01T06:11:20",
           "2022-11-01 06:11:20Z",
           "2022-13-01T06:11:20Z",
           "2022-00-01T06:11:20Z",
           "2022-11-00T06:11:20Z",
           "2022-11-31T06:11:20Z",
           "2023-02-29T06:11:20Z",
           "1900-02-29T06:11:20Z",
           "2022-11-01T24:00:00Z",
           "2022-11-01T06:60:20Z",
           "2022-11-01T06:11:61Z",
           "2022-11-01T06:11:20.Z",
           "2022-11-01T06:11:20+2:00",
           "2022-11-01T06:11:20+24:00",
           "2022-11-01T06:11:20+02:60",
           "2022-11-01T06:11:20+0200",
           "2022-11-01T06:11:20Zjunk",
           "22-11-01T06:11:20Z",
           "2022-1-01T06:11:20Z",
           "+022-11-01T06:11:20Z",
           "2022-11-01T06:11:2OZ",
           "9999-12-31T23:59:59Z",  // beyond system_clock's nanosecond range
           "0001-01-01T00:00:00Z",
       }) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parseRfc3339(text).has_value());
  }
}

}  // namespace
}  // namespace pullguard
