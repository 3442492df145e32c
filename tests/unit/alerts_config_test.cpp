// The `alerts` block: defaults, the issue's example, one case per error, and the resolution of
// the sinks' secrets from the environment and files.
#include "alerts/alerts_config.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config.hpp"

namespace pullguard {
namespace {

constexpr const char* kExample = R"({"alerts": {
  "repeat_interval_seconds": 0,
  "queue_size": 64,
  "sinks": [
    {"type": "log"},
    {"type": "webhook", "name": "ops", "url": "https://example.invalid/hook",
     "hmac_secret_env": "HOOK_KEY", "timeout_seconds": 5},
    {"type": "slack", "url_env": "SLACK_WEBHOOK_URL"},
    {"type": "exec", "command": ["/usr/local/bin/page", "--team", "infra"], "timeout_seconds": 10}
  ]
}})";

AlertsConfig parseAlerts(const std::string& alerts_json) {
  const ConfigResult result = parseConfig(R"({"alerts": )" + alerts_json + "}");
  EXPECT_TRUE(result.config.has_value()) << result.error;
  return result.config ? result.config->alerts : AlertsConfig{};
}

TEST(AlertsConfig, AbsentMeansOneLogSink) {
  const ConfigResult result = parseConfig("{}");
  ASSERT_TRUE(result.config.has_value());
  const AlertsConfig& alerts = result.config->alerts;
  ASSERT_EQ(alerts.sinks.size(), 1u);
  EXPECT_EQ(alerts.sinks[0].type, SinkType::kLog);
  EXPECT_EQ(alerts.sinks[0].name, "log");
  EXPECT_EQ(alerts.repeat_interval_seconds, 0);
  EXPECT_EQ(alerts.queue_size, 64);
}

TEST(AlertsConfig, BlockWithoutSinksKeepsTheLogSink) {
  const AlertsConfig alerts = parseAlerts(R"({"repeat_interval_seconds": 3600})");
  ASSERT_EQ(alerts.sinks.size(), 1u);
  EXPECT_EQ(alerts.sinks[0].type, SinkType::kLog);
  EXPECT_EQ(alerts.repeat_interval_seconds, 3600);
}

TEST(AlertsConfig, EmptySinksMeansNoNotifications) {
  EXPECT_TRUE(parseAlerts(R"({"sinks": []})").sinks.empty());
}

TEST(AlertsConfig, ReadsIssueExample) {
  const ConfigResult result = parseConfig(kExample);
  ASSERT_TRUE(result.config.has_value()) << result.error;
  const AlertsConfig& alerts = result.config->alerts;
  EXPECT_EQ(alerts.queue_size, 64);
  ASSERT_EQ(alerts.sinks.size(), 4u);
  EXPECT_EQ(alerts.sinks[0].name, "log");
  EXPECT_EQ(alerts.sinks[1].type, SinkType::kWebhook);
  EXPECT_EQ(alerts.sinks[1].name, "ops");
  EXPECT_EQ(alerts.sinks[1].url, "https://example.invalid/hook");
  EXPECT_EQ(alerts.sinks[1].hmac_secret_env, "HOOK_KEY");
  EXPECT_EQ(alerts.sinks[1].timeout_seconds, 5);
  EXPECT_EQ(alerts.sinks[2].type, SinkType::kSlack);
  EXPECT_EQ(alerts.sinks[2].name, "slack");
  EXPECT_EQ(alerts.sinks[2].url_env, "SLACK_WEBHOOK_URL");
  EXPECT_EQ(alerts.sinks[3].type, SinkType::kExec);
  EXPECT_EQ(alerts.sinks[3].command,
            (std::vector<std::string>{"/usr/local/bin/page", "--team", "infra"}));
  EXPECT_EQ(alerts.sinks[3].timeout_seconds, 10);
}

TEST(AlertsConfig, SinkTypeNames) {
  EXPECT_EQ(sinkTypeName(SinkType::kLog), "log");
  EXPECT_EQ(sinkTypeName(SinkType::kWebhook), "webhook");
  EXPECT_EQ(sinkTypeName(SinkType::kSlack), "slack");
  EXPECT_EQ(sinkTypeName(SinkType::kExec), "exec");
}

struct BadAlerts {
  const char* alerts;
  const char* error;
};

// One row per error path of readAlertsConfig.
const BadAlerts kBadAlerts[] = {
    {R"([])", "alerts: must be an object"},
    {R"({"sink": []})", "alerts.sink: unknown key"},
    {R"({"queue_size": 0})", "alerts.queue_size: must be between 1 and 10000"},
    {R"({"queue_size": 10001})", "alerts.queue_size: must be between 1 and 10000"},
    {R"({"queue_size": "64"})", "alerts.queue_size: must be a whole number"},
    {R"({"repeat_interval_seconds": 59})",
     "alerts.repeat_interval_seconds: must be 0 (no repeats) or between 60 and 604800"},
    {R"({"repeat_interval_seconds": 604801})",
     "alerts.repeat_interval_seconds: must be 0 (no repeats) or between 60 and 604800"},
    {R"({"sinks": {}})", "alerts.sinks: must be a list"},
    {R"({"sinks": ["log"]})", "alerts.sinks[0]: must be an object"},
    {R"({"sinks": [{}]})", "alerts.sinks[0].type: required"},
    {R"({"sinks": [{"type": 1}]})", "alerts.sinks[0].type: must be a string"},
    {R"({"sinks": [{"type": "pager"}]})",
     "alerts.sinks[0].type: \"pager\" is not log, webhook, slack or exec"},
    {R"({"sinks": [{"type": "log", "level": "warn"}]})", "alerts.sinks[0].level: unknown key"},
    {R"({"sinks": [{"type": "log", "name": ""}]})",
     "alerts.sinks[0].name: must be 1 to 64 printable characters"},
    {R"({"sinks": [{"type": "log", "name": "a\nb"}]})",
     "alerts.sinks[0].name: must be 1 to 64 printable characters"},
    {R"({"sinks": [{"type": "log"}, {"type": "exec", "name": "log", "command": ["/bin/true"]}]})",
     "alerts.sinks[1].name: \"log\" is used by another sink"},
    {R"({"sinks": [{"type": "exec", "command": ["/bin/true"]}, {"type": "exec",
        "command": ["/bin/true"]}]})",
     "alerts.sinks[1].name: \"exec\" is used by another sink"},
    {R"({"sinks": [{"type": "log", "url": "https://x.invalid/"}]})",
     "alerts.sinks[0].url: not used by log sinks"},
    {R"({"sinks": [{"type": "webhook", "url": "https://x.invalid/", "command": ["/bin/true"]}]})",
     "alerts.sinks[0].command: not used by webhook sinks"},
    {R"({"sinks": [{"type": "slack", "url": "https://x.invalid/", "hmac_secret_env": "K"}]})",
     "alerts.sinks[0].hmac_secret_env: not used by slack sinks"},
    {R"({"sinks": [{"type": "exec", "command": ["/bin/true"], "url_env": "U"}]})",
     "alerts.sinks[0].url_env: not used by exec sinks"},
    {R"({"sinks": [{"type": "webhook"}]})",
     "alerts.sinks[0]: webhook needs one of url, url_env or url_file"},
    {R"({"sinks": [{"type": "slack"}]})",
     "alerts.sinks[0]: slack needs one of url, url_env or url_file"},
    {R"({"sinks": [{"type": "webhook", "url": "https://x.invalid/", "url_env": "U"}]})",
     "alerts.sinks[0]: url, url_env and url_file are exclusive"},
    {R"({"sinks": [{"type": "webhook", "url_env": ""}]})",
     "alerts.sinks[0].url_env: must not be empty"},
    {R"({"sinks": [{"type": "slack", "url": "ftp://hooks.invalid/T000/B000/SECRETPATH"}]})",
     "alerts.sinks[0].url: must start with https:// or http://"},
    {R"({"sinks": [{"type": "webhook", "url": "https://x.invalid/a b"}]})",
     "alerts.sinks[0].url: must not contain spaces or control characters"},
    {R"({"sinks": [{"type": "webhook", "url": "https://x.invalid/", "hmac_secret_env": "K",
        "hmac_secret_file": "k"}]})",
     "alerts.sinks[0]: hmac_secret_env and hmac_secret_file are exclusive"},
    {R"({"sinks": [{"type": "webhook", "url": "https://x.invalid/", "timeout_seconds": 0}]})",
     "alerts.sinks[0].timeout_seconds: must be between 1 and 300"},
    {R"({"sinks": [{"type": "exec", "command": ["/bin/true"], "timeout_seconds": 301}]})",
     "alerts.sinks[0].timeout_seconds: must be between 1 and 300"},
    {R"({"sinks": [{"type": "exec"}]})", "alerts.sinks[0].command: required for exec sinks"},
    {R"({"sinks": [{"type": "exec", "command": []}]})",
     "alerts.sinks[0].command: must be a non-empty list of strings"},
    {R"({"sinks": [{"type": "exec", "command": "/bin/true"}]})",
     "alerts.sinks[0].command: must be a non-empty list of strings"},
    {R"({"sinks": [{"type": "exec", "command": ["/bin/echo", 1]}]})",
     "alerts.sinks[0].command[1]: must be a string"},
    {R"({"sinks": [{"type": "exec", "command": ["/bin/echo", "a\u0000b"]}]})",
     "alerts.sinks[0].command[1]: must not contain a NUL character"},
    {R"({"sinks": [{"type": "exec", "command": ["page", "--team"]}]})",
     "alerts.sinks[0].command[0]: \"page\" must be an absolute path (no shell, no PATH search)"},
};

TEST(AlertsConfig, EachErrorHasItsLine) {
  for (const BadAlerts& bad : kBadAlerts) {
    SCOPED_TRACE(bad.alerts);
    const ConfigResult result = parseConfig(std::string(R"({"alerts": )") + bad.alerts + "}");
    EXPECT_FALSE(result.config.has_value());
    EXPECT_EQ(result.error, bad.error);
  }
}

TEST(AlertsConfig, UrlErrorsNeverEchoTheUrl) {
  for (const BadAlerts& bad : kBadAlerts) {
    EXPECT_EQ(std::string(bad.error).find("SECRETPATH"), std::string::npos) << bad.error;
    EXPECT_EQ(std::string(bad.error).find("x.invalid"), std::string::npos) << bad.error;
  }
}

class ResolveAlertSinks : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pullguard-alerts-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    ::unsetenv("CREDENTIALS_DIRECTORY");
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    ::unsetenv("PULLGUARD_TEST_HOOK_URL");
    ::unsetenv("PULLGUARD_TEST_HOOK_KEY");
    ::unsetenv("CREDENTIALS_DIRECTORY");
  }
  std::string writeFile(const std::string& name, const std::string& text, mode_t mode = 0600) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path.string();
  }
  static AlertsConfig oneSink(SinkConfig sink) {
    AlertsConfig alerts;
    alerts.sinks.push_back(std::move(sink));
    return alerts;
  }
  std::filesystem::path dir_;
};

TEST_F(ResolveAlertSinks, LiteralUrlAndNoKey) {
  const auto result = resolveAlertSinks(
      oneSink({.type = SinkType::kWebhook, .name = "ops", .url = "https://example.invalid/hook"}));
  ASSERT_EQ(result.error, "");
  ASSERT_EQ(result.sinks.size(), 1u);
  EXPECT_EQ(result.sinks[0].url, "https://example.invalid/hook");
  EXPECT_EQ(result.sinks[0].hmac_secret, "");
  EXPECT_TRUE(result.warnings.empty());
}

TEST_F(ResolveAlertSinks, UrlAndKeyFromEnvironment) {
  ::setenv("PULLGUARD_TEST_HOOK_URL", "https://hooks.invalid/T1/B2/abc", 1);
  ::setenv("PULLGUARD_TEST_HOOK_KEY", "k3y", 1);
  const auto result = resolveAlertSinks(oneSink({.type = SinkType::kWebhook,
                                                 .name = "ops",
                                                 .url_env = "PULLGUARD_TEST_HOOK_URL",
                                                 .hmac_secret_env = "PULLGUARD_TEST_HOOK_KEY"}));
  ASSERT_EQ(result.error, "");
  EXPECT_EQ(result.sinks[0].url, "https://hooks.invalid/T1/B2/abc");
  EXPECT_EQ(result.sinks[0].hmac_secret, "k3y");
}

TEST_F(ResolveAlertSinks, UnsetEnvironmentVariable) {
  const auto result = resolveAlertSinks(
      oneSink({.type = SinkType::kSlack, .name = "slack", .url_env = "PULLGUARD_TEST_HOOK_URL"}));
  EXPECT_EQ(result.error, "alerts.sinks[0].url_env: PULLGUARD_TEST_HOOK_URL is not set");
  EXPECT_TRUE(result.sinks.empty());
}

TEST_F(ResolveAlertSinks, UrlFromCredentialsDirectoryWithWarning) {
  writeFile("slack-url", "https://hooks.invalid/T1/B2/SECRET\n", 0644);
  ::setenv("CREDENTIALS_DIRECTORY", dir_.c_str(), 1);
  const auto result = resolveAlertSinks(
      oneSink({.type = SinkType::kSlack, .name = "slack", .url_file = "slack-url"}));
  ASSERT_EQ(result.error, "");
  EXPECT_EQ(result.sinks[0].url, "https://hooks.invalid/T1/B2/SECRET");
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_EQ(result.warnings[0], "alerts.sinks[0].url_file: " + (dir_ / "slack-url").string() +
                                    ": readable by every user; restrict it with chmod 600");
}

TEST_F(ResolveAlertSinks, ResolvedUrlSchemeIsCheckedWithoutEchoingIt) {
  ::setenv("PULLGUARD_TEST_HOOK_URL", "hooks.invalid/T1/B2/SECRET", 1);
  const auto from_env = resolveAlertSinks(
      oneSink({.type = SinkType::kSlack, .name = "slack", .url_env = "PULLGUARD_TEST_HOOK_URL"}));
  EXPECT_EQ(from_env.error,
            "alerts.sinks[0].url_env: the URL in PULLGUARD_TEST_HOOK_URL must start with "
            "https:// or http://");
  const std::string file = writeFile("url", "ftp://hooks.invalid/SECRET\n");
  const auto from_file =
      resolveAlertSinks(oneSink({.type = SinkType::kWebhook, .name = "w", .url_file = file}));
  EXPECT_EQ(from_file.error, "alerts.sinks[0].url_file: the URL in " + file +
                                 " must start with https:// or http://");
}

TEST_F(ResolveAlertSinks, HmacKeyFileMissingOrEmpty) {
  const auto missing = resolveAlertSinks(oneSink({.type = SinkType::kWebhook,
                                                  .name = "w",
                                                  .url = "http://127.0.0.1:1/",
                                                  .hmac_secret_file = "/nonexistent/hook-key"}));
  EXPECT_EQ(missing.error, "alerts.sinks[0].hmac_secret_file: /nonexistent/hook-key: no such file");
  const std::string empty = writeFile("key", "\n");
  const auto blank = resolveAlertSinks(oneSink(
      {.type = SinkType::kWebhook, .name = "w", .url = "http://x/", .hmac_secret_file = empty}));
  EXPECT_EQ(blank.error, "alerts.sinks[0].hmac_secret_file: " + empty + ": is empty");
}

TEST_F(ResolveAlertSinks, HmacKeyFromFileWithoutTrailingNewline) {
  const std::string key = writeFile("key", "s3cret\n");
  const auto result = resolveAlertSinks(oneSink(
      {.type = SinkType::kWebhook, .name = "w", .url = "http://x/", .hmac_secret_file = key}));
  ASSERT_EQ(result.error, "");
  EXPECT_EQ(result.sinks[0].hmac_secret, "s3cret");
  EXPECT_TRUE(result.warnings.empty());
}

TEST_F(ResolveAlertSinks, ExecCommandMustBeExecutable) {
  const std::string script = writeFile("hook.sh", "#!/bin/sh\n", 0600);
  const auto result = resolveAlertSinks(
      oneSink({.type = SinkType::kExec, .name = "exec", .command = {script, "--x"}}));
  EXPECT_EQ(result.error, "alerts.sinks[0].command[0]: " + script + ": not an executable file");
  ::chmod(script.c_str(), 0700);
  EXPECT_EQ(
      resolveAlertSinks(oneSink({.type = SinkType::kExec, .name = "e", .command = {script}})).error,
      "");
}

}  // namespace
}  // namespace pullguard
