#include "log.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace pullguard {
namespace {

constexpr const char* kTs = "2024-01-02T03:04:05.678Z";

std::string logfmt(std::string_view message, std::initializer_list<LogField> fields = {},
                   LogLevel level = LogLevel::kInfo) {
  return formatLogLine(LogFormat::kLogfmt, kTs, level, message, fields);
}

TEST(FormatLogLine, LogfmtPlainValues) {
  EXPECT_EQ(logfmt("started", {{"listen", ":10217"}, {"identities", "2"}}),
            "ts=2024-01-02T03:04:05.678Z level=info msg=started listen=:10217 identities=2");
}

TEST(FormatLogLine, LogfmtLevels) {
  EXPECT_EQ(logfmt("m", {}, LogLevel::kDebug), "ts=2024-01-02T03:04:05.678Z level=debug msg=m");
  EXPECT_EQ(logfmt("m", {}, LogLevel::kWarn), "ts=2024-01-02T03:04:05.678Z level=warn msg=m");
  EXPECT_EQ(logfmt("m", {}, LogLevel::kError), "ts=2024-01-02T03:04:05.678Z level=error msg=m");
}

TEST(FormatLogLine, LogfmtQuotesAndEscapes) {
  const struct {
    std::string value;
    std::string rendered;
  } cases[] = {
      {"plain", "plain"},
      {"", R"("")"},
      {"two words", R"("two words")"},
      {R"(say "hi")", R"("say \"hi\"")"},
      {"a=b", R"("a=b")"},
      {R"(back\slash)", R"("back\\slash")"},
      {"line1\nline2", R"("line1\nline2")"},
      {"cr\rlf", R"("cr\rlf")"},
      {"tab\there", R"("tab\there")"},
      {std::string("nul\0byte", 8), R"("nul\x00byte")"},
      {"bell\x07", R"("bell\x07")"},
      {"esc\x1b[31m", R"("esc\x1b[31m")"},
      {"del\x7f", R"("del\x7f")"},
      {"registry answered HTTP 503", R"("registry answered HTTP 503")"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.rendered);
    const std::string line = formatLogLine(LogFormat::kLogfmt, kTs, LogLevel::kWarn, "probe failed",
                                           {{"error", c.value}});
    EXPECT_EQ(line,
              std::string("ts=2024-01-02T03:04:05.678Z level=warn msg=\"probe failed\" error=") +
                  c.rendered);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.find('\r'), std::string::npos);
  }
}

TEST(FormatLogLine, LogfmtKeepsUtf8Intact) {
  const std::string line = logfmt("m", {{"name", "caf\xc3\xa9"}});
  EXPECT_NE(line.find("caf\xc3\xa9"), std::string::npos) << line;
}

TEST(FormatLogLine, JsonParsesBack) {
  const std::string line =
      formatLogLine(LogFormat::kJson, kTs, LogLevel::kWarn, "probe \"failed\"\n",
                    {{"identity", "ci"}, {"error", "a\nb\t\"c\"\\ \x01"}, {"empty", ""}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_TRUE(line.starts_with(R"({"ts":"2024-01-02T03:04:05.678Z","level":"warn","msg":)"))
      << line;
  const nlohmann::json parsed = nlohmann::json::parse(line);
  ASSERT_TRUE(parsed.is_object());
  EXPECT_EQ(parsed.size(), 6u);
  EXPECT_EQ(parsed.at("ts"), kTs);
  EXPECT_EQ(parsed.at("level"), "warn");
  EXPECT_EQ(parsed.at("msg"), "probe \"failed\"\n");
  EXPECT_EQ(parsed.at("identity"), "ci");
  EXPECT_EQ(parsed.at("error"), "a\nb\t\"c\"\\ \x01");
  EXPECT_EQ(parsed.at("empty"), "");
}

TEST(FormatLogLine, JsonReplacesInvalidUtf8) {
  const std::string line =
      formatLogLine(LogFormat::kJson, kTs, LogLevel::kError, "m", {{"value", "bad\xff\xfe"}});
  const nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed.at("value"), "bad\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(ParseLogLevel, AcceptsTheFourLevels) {
  EXPECT_EQ(parseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(parseLogLevel("info"), LogLevel::kInfo);
  EXPECT_EQ(parseLogLevel("warn"), LogLevel::kWarn);
  EXPECT_EQ(parseLogLevel("error"), LogLevel::kError);
  for (const char* text : {"", "INFO", "warning", "trace", "fatal", " info"}) {
    EXPECT_FALSE(parseLogLevel(text).has_value()) << text;
  }
}

TEST(ParseLogFormat, AcceptsLogfmtAndJson) {
  EXPECT_EQ(parseLogFormat("logfmt"), LogFormat::kLogfmt);
  EXPECT_EQ(parseLogFormat("json"), LogFormat::kJson);
  for (const char* text : {"", "JSON", "text", "logfmt "}) {
    EXPECT_FALSE(parseLogFormat(text).has_value()) << text;
  }
}

TEST(Logger, FiltersByLevel) {
  Logger log;
  EXPECT_FALSE(log.enabled(LogLevel::kDebug));
  EXPECT_TRUE(log.enabled(LogLevel::kInfo));
  log.configure(LogLevel::kWarn, LogFormat::kJson);
  EXPECT_FALSE(log.enabled(LogLevel::kInfo));
  EXPECT_TRUE(log.enabled(LogLevel::kWarn));
  EXPECT_TRUE(log.enabled(LogLevel::kError));
  log.configure(LogLevel::kDebug, LogFormat::kLogfmt);
  EXPECT_TRUE(log.enabled(LogLevel::kDebug));
}

// Regression: a field named like a built-in key overwrote it in JSON lines.
TEST(FormatLogLine, JsonFieldsCannotOverwriteBuiltInKeys) {
  const std::string line = formatLogLine(LogFormat::kJson, "2026-01-01T00:00:00.000Z",
                                         LogLevel::kWarn, "real message", {{"msg", "spoofed"}});
  const auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["msg"], "real message");
  EXPECT_EQ(parsed["_msg"], "spoofed");
  EXPECT_EQ(parsed["level"], "warn");
}

}  // namespace
}  // namespace pullguard
