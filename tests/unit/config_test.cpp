#include "config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pullguard {
namespace {

constexpr const char* kIssueExample = R"({
  "registry": {"url": "https://registry-1.docker.io", "repository": "ratelimitpreview/test",
               "reference": "latest"},
  "probe": {"interval_seconds": 60, "timeout_seconds": 10},
  "identities": [
    {"name": "anonymous"},
    {"name": "ci", "username": "acme-ci", "password_env": "DOCKERHUB_TOKEN",
     "families": ["ipv4", "ipv6"]},
    {"name": "ops", "username": "acme-ops", "password_file": "/run/secrets/dockerhub"},
    {"name": "host", "docker_config": "/root/.docker/config.json"}
  ],
  "thresholds": {"warning_ratio": 0.2, "critical_ratio": 0.05},
  "web": {"listen_address": "0.0.0.0:10217"}
})";

using Families = std::vector<AddressFamily>;

TEST(ParseConfig, ReadsIssueExample) {
  const ConfigResult result = parseConfig(kIssueExample);
  ASSERT_TRUE(result.config.has_value()) << result.error;
  EXPECT_EQ(result.error, "");
  const Config& config = *result.config;

  EXPECT_EQ(config.registry.url, "https://registry-1.docker.io");
  EXPECT_EQ(config.registry.repository, "ratelimitpreview/test");
  EXPECT_EQ(config.registry.reference, "latest");

  EXPECT_EQ(config.probe.interval_seconds, 60);
  EXPECT_EQ(config.probe.timeout_seconds, 10);
  EXPECT_DOUBLE_EQ(config.probe.jitter_ratio, 0.1);
  EXPECT_EQ(config.probe.max_backoff_seconds, 300);

  ASSERT_EQ(config.identities.size(), 4u);
  const IdentityConfig& anonymous = config.identities[0];
  EXPECT_EQ(anonymous.name, "anonymous");
  EXPECT_EQ(anonymous.username, "");
  EXPECT_EQ(anonymous.password_env, "");
  EXPECT_EQ(anonymous.password_file, "");
  EXPECT_EQ(anonymous.docker_config, "");
  EXPECT_EQ(anonymous.families, Families{AddressFamily::kAny});
  EXPECT_TRUE(anonymous.anonymous());

  const IdentityConfig& ci = config.identities[1];
  EXPECT_EQ(ci.name, "ci");
  EXPECT_EQ(ci.username, "acme-ci");
  EXPECT_EQ(ci.password_env, "DOCKERHUB_TOKEN");
  EXPECT_EQ(ci.password_file, "");
  EXPECT_EQ(ci.docker_config, "");
  EXPECT_EQ(ci.families, (Families{AddressFamily::kIpv4, AddressFamily::kIpv6}));
  EXPECT_FALSE(ci.anonymous());

  const IdentityConfig& ops = config.identities[2];
  EXPECT_EQ(ops.name, "ops");
  EXPECT_EQ(ops.username, "acme-ops");
  EXPECT_EQ(ops.password_env, "");
  EXPECT_EQ(ops.password_file, "/run/secrets/dockerhub");
  EXPECT_EQ(ops.docker_config, "");
  EXPECT_EQ(ops.families, Families{AddressFamily::kAny});
  EXPECT_FALSE(ops.anonymous());

  const IdentityConfig& host = config.identities[3];
  EXPECT_EQ(host.name, "host");
  EXPECT_EQ(host.username, "");
  EXPECT_EQ(host.password_env, "");
  EXPECT_EQ(host.password_file, "");
  EXPECT_EQ(host.docker_config, "/root/.docker/config.json");
  EXPECT_EQ(host.families, Families{AddressFamily::kAny});
  EXPECT_FALSE(host.anonymous());

  EXPECT_DOUBLE_EQ(config.thresholds.warning_ratio, 0.2);
  EXPECT_DOUBLE_EQ(config.thresholds.critical_ratio, 0.05);
  EXPECT_EQ(config.web.listen_address, "0.0.0.0:10217");
}

TEST(DefaultConfig, IsOneAnonymousIdentity) {
  const Config config = defaultConfig();
  EXPECT_EQ(config.registry.url, "https://registry-1.docker.io");
  EXPECT_EQ(config.registry.repository, "ratelimitpreview/test");
  EXPECT_EQ(config.registry.reference, "latest");
  EXPECT_EQ(config.probe.interval_seconds, 60);
  EXPECT_EQ(config.probe.timeout_seconds, 10);
  EXPECT_DOUBLE_EQ(config.probe.jitter_ratio, 0.1);
  EXPECT_EQ(config.probe.max_backoff_seconds, 300);
  ASSERT_EQ(config.identities.size(), 1u);
  EXPECT_EQ(config.identities[0].name, "anonymous");
  EXPECT_TRUE(config.identities[0].anonymous());
  EXPECT_EQ(config.identities[0].families, Families{AddressFamily::kAny});
  EXPECT_DOUBLE_EQ(config.thresholds.warning_ratio, 0.2);
  EXPECT_DOUBLE_EQ(config.thresholds.critical_ratio, 0.05);
  EXPECT_EQ(config.web.listen_address, "0.0.0.0:10217");
}

TEST(ParseConfig, EmptyObjectIsTheDefault) {
  const ConfigResult result = parseConfig("{}");
  ASSERT_TRUE(result.config.has_value()) << result.error;
  const Config expected = defaultConfig();
  EXPECT_EQ(result.config->registry.url, expected.registry.url);
  EXPECT_EQ(result.config->probe.interval_seconds, expected.probe.interval_seconds);
  ASSERT_EQ(result.config->identities.size(), 1u);
  EXPECT_EQ(result.config->identities[0].name, "anonymous");
  EXPECT_EQ(result.config->web.listen_address, expected.web.listen_address);
}

TEST(ParseConfig, StripsTrailingSlashesFromRegistryUrl) {
  const ConfigResult result =
      parseConfig(R"({"registry": {"url": "http://127.0.0.1:5000//", "reference": "sha256:ab"}})");
  ASSERT_TRUE(result.config.has_value()) << result.error;
  EXPECT_EQ(result.config->registry.url, "http://127.0.0.1:5000");
  EXPECT_EQ(result.config->registry.reference, "sha256:ab");
}

TEST(ParseConfig, ReadsOptionalProbeSettings) {
  const ConfigResult result = parseConfig(
      R"({"probe": {"interval_seconds": 30, "timeout_seconds": 30, "jitter_ratio": 0.5,
                    "max_backoff_seconds": 30}})");
  ASSERT_TRUE(result.config.has_value()) << result.error;
  EXPECT_EQ(result.config->probe.interval_seconds, 30);
  EXPECT_EQ(result.config->probe.timeout_seconds, 30);
  EXPECT_DOUBLE_EQ(result.config->probe.jitter_ratio, 0.5);
  EXPECT_EQ(result.config->probe.max_backoff_seconds, 30);
}

// An interval above the default backoff cap must not demand a setting the user never wrote.
TEST(ParseConfig, LongIntervalRaisesDefaultBackoffCap) {
  const ConfigResult result = parseConfig(R"({"probe": {"interval_seconds": 900}})");
  ASSERT_TRUE(result.config.has_value()) << result.error;
  EXPECT_EQ(result.config->probe.interval_seconds, 900);
  EXPECT_EQ(result.config->probe.max_backoff_seconds, 900);
}

TEST(ParseConfig, AcceptsNameOfSixtyFourCharacters) {
  const std::string name(64, 'n');
  const ConfigResult result = parseConfig(R"({"identities": [{"name": ")" + name + R"("}]})");
  ASSERT_TRUE(result.config.has_value()) << result.error;
  EXPECT_EQ(result.config->identities[0].name, name);
}

TEST(ParseConfig, RejectsBadConfigs) {
  const struct {
    std::string json;
    std::string error;
  } cases[] = {
      {R"({"registy": {}})", "registy: unknown key"},
      {R"({"registry": {"foo": 1}})", "registry.foo: unknown key"},
      {R"({"probe": {"interval": 60}})", "probe.interval: unknown key"},
      {R"({"identities": [{"name": "a", "pasword_env": "X"}]})",
       "identities[0].pasword_env: unknown key"},
      {R"({"identities": [{"name": "a", "password": "hunter2"}]})",
       "identities[0].password: unknown key"},
      {R"({"thresholds": {"warn": 0.1}})", "thresholds.warn: unknown key"},
      {R"({"web": {"listen": ":1"}})", "web.listen: unknown key"},
      {R"([])", "config: must be an object"},
      {R"({"registry": []})", "registry: must be an object"},
      {R"({"identities": [{"name": "a"}, "b"]})", "identities[1]: must be an object"},
      {R"({"identities": [{"name": "a"}, {"name": "b", "password_env": "X"}]})",
       "identities[1]: password_env and password_file need a username"},
      {R"({"identities": [{"name": "b", "password_file": "/x"}]})",
       "identities[0]: password_env and password_file need a username"},
      {R"({"identities": [{"name": "a", "username": "u"}]})",
       "identities[0]: username needs password_env or password_file"},
      {R"({"identities": [{"name": "a", "username": "u", "password_env": "X",
                           "password_file": "/x"}]})",
       "identities[0]: password_env and password_file are exclusive"},
      {R"({"identities": [{"name": "a", "username": "u", "docker_config": "/c.json"}]})",
       "identities[0]: docker_config cannot be combined with username, password_env or "
       "password_file"},
      {R"({"identities": [{"name": "a", "docker_config": "/c.json", "password_env": "X"}]})",
       "identities[0]: docker_config cannot be combined with username, password_env or "
       "password_file"},
      {R"({"identities": [{"name": "a", "families": ["ipv5"]}]})",
       R"(identities[0].families[0]: "ipv5" is not any, ipv4 or ipv6)"},
      {R"({"identities": [{"name": "a", "families": ["IPv4"]}]})",
       R"(identities[0].families[0]: "IPv4" is not any, ipv4 or ipv6)"},
      {R"({"identities": [{"name": "a", "families": ["any", "ipv4"]}]})",
       R"(identities[0].families: "any" cannot be combined with ipv4 or ipv6)"},
      {R"({"identities": [{"name": "a", "families": ["ipv6", "any"]}]})",
       R"(identities[0].families: "any" cannot be combined with ipv4 or ipv6)"},
      {R"({"identities": [{"name": "a", "families": ["ipv4", "ipv6", "ipv4"]}]})",
       R"(identities[0].families[2]: "ipv4" repeated)"},
      {R"({"identities": [{"name": "a", "families": []}]})",
       "identities[0].families: must be a non-empty list"},
      {R"({"identities": [{"name": "a", "families": "ipv4"}]})",
       "identities[0].families: must be a non-empty list"},
      {R"({"identities": [{"name": "a", "families": [4]}]})",
       "identities[0].families[0]: must be a string"},
      {R"({"identities": [{"name": "ci"}, {"name": "x"}, {"name": "ci"}]})",
       R"(identities[2].name: "ci" is used by another identity)"},
      {R"({"identities": []})", "identities: must be a non-empty list"},
      {R"({"identities": {"name": "a"}})", "identities: must be a non-empty list"},
      {R"({"identities": [{"username": "u", "password_env": "X"}]})",
       "identities[0].name: required"},
      {R"({"identities": [{"name": ""}]})",
       "identities[0].name: must be 1 to 64 printable characters"},
      {R"({"identities": [{"name": ")" + std::string(65, 'n') + R"("}]})",
       "identities[0].name: must be 1 to 64 printable characters"},
      {R"({"identities": [{"name": "a\nb"}]})",
       "identities[0].name: must be 1 to 64 printable characters"},
      {R"({"identities": [{"name": 7}]})", "identities[0].name: must be a string"},
      {R"({"probe": {"interval_seconds": 5}})",
       "probe.interval_seconds: 5 is below the minimum of 10"},
      {R"({"probe": {"interval_seconds": 9}})",
       "probe.interval_seconds: 9 is below the minimum of 10"},
      {R"({"probe": {"interval_seconds": "60"}})",
       "probe.interval_seconds: must be a whole number"},
      {R"({"probe": {"interval_seconds": 60.5}})",
       "probe.interval_seconds: must be a whole number"},
      {R"({"probe": {"timeout_seconds": 0}})",
       "probe.timeout_seconds: must be between 1 and probe.interval_seconds (60)"},
      {R"({"probe": {"interval_seconds": 30, "timeout_seconds": 31}})",
       "probe.timeout_seconds: must be between 1 and probe.interval_seconds (30)"},
      {R"({"probe": {"jitter_ratio": 0.6}})", "probe.jitter_ratio: must be between 0 and 0.5"},
      {R"({"probe": {"jitter_ratio": -0.1}})", "probe.jitter_ratio: must be between 0 and 0.5"},
      {R"({"probe": {"jitter_ratio": "0.1"}})", "probe.jitter_ratio: must be a number"},
      {R"({"probe": {"interval_seconds": 120, "max_backoff_seconds": 60}})",
       "probe.max_backoff_seconds: must be at least probe.interval_seconds (120)"},
      {R"({"thresholds": {"warning_ratio": 1.5}})",
       "thresholds.warning_ratio: must be between 0 and 1"},
      {R"({"thresholds": {"warning_ratio": -0.2}})",
       "thresholds.warning_ratio: must be between 0 and 1"},
      {R"({"thresholds": {"critical_ratio": -0.01}})",
       "thresholds.critical_ratio: must be between 0 and 1"},
      {R"({"thresholds": {"warning_ratio": 0.1, "critical_ratio": 0.2}})",
       "thresholds.critical_ratio: must not exceed thresholds.warning_ratio"},
      {R"({"web": {"listen_address": "0.0.0.0"}})",
       R"(web.listen_address: "0.0.0.0" is not host:port)"},
      {R"({"web": {"listen_address": "0.0.0.0:"}})",
       R"(web.listen_address: "0.0.0.0:" is not host:port)"},
      {R"({"web": {"listen_address": 10217}})", "web.listen_address: must be a string"},
      {R"({"registry": {"url": "registry-1.docker.io"}})",
       R"(registry.url: "registry-1.docker.io" must start with https:// or http://)"},
      {R"({"registry": {"url": "ftp://registry-1.docker.io"}})",
       R"(registry.url: "ftp://registry-1.docker.io" must start with https:// or http://)"},
      {R"({"registry": {"url": "https://hub.example/?x=1"}})",
       "registry.url: must not contain spaces, a query or a fragment"},
      {R"({"registry": {"repository": "Library/Alpine"}})",
       R"(registry.repository: "Library/Alpine" is not a repository name)"},
      {R"({"registry": {"repository": ""}})",
       R"(registry.repository: "" is not a repository name)"},
      {R"({"registry": {"reference": "la test"}})",
       R"(registry.reference: "la test" is not a tag or digest)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    const ConfigResult result = parseConfig(c.json);
    EXPECT_FALSE(result.config.has_value());
    EXPECT_EQ(result.error, c.error);
  }
}

TEST(ParseConfig, InvalidJsonNamesLineAndColumn) {
  const ConfigResult result = parseConfig("{\n  \"probe\": {\"interval_seconds\": 60,}\n}");
  EXPECT_FALSE(result.config.has_value());
  EXPECT_TRUE(result.error.starts_with("invalid JSON: parse error at line 2, column "))
      << result.error;
}

// nlohmann's message quotes what it last read; config files can hold secrets.
TEST(ParseConfig, InvalidJsonDoesNotEchoContent) {
  const ConfigResult result =
      parseConfig(R"({"identities": [{"name": "x", "password": Pw-Do-Not-Leak-7731}]})");
  EXPECT_FALSE(result.config.has_value());
  EXPECT_TRUE(result.error.starts_with("invalid JSON: parse error at line 1, column "))
      << result.error;
  EXPECT_EQ(result.error.find("Pw-Do-Not-Leak"), std::string::npos) << result.error;
  EXPECT_EQ(result.error.find("last read"), std::string::npos) << result.error;
}

TEST(ParseConfig, EmptyTextIsInvalidJson) {
  const ConfigResult result = parseConfig("");
  EXPECT_FALSE(result.config.has_value());
  EXPECT_TRUE(result.error.starts_with("invalid JSON: ")) << result.error;
}

TEST(ParseListenAddress, SplitsHostAndPort) {
  const struct {
    std::string text;
    std::string host;
    int port;
  } cases[] = {
      {"0.0.0.0:10217", "0.0.0.0", 10217},
      {":9100", "", 9100},
      {"localhost:8080", "localhost", 8080},
      {"[::1]:10217", "[::1]", 10217},
      {"[::]:80", "[::]", 80},
      {"127.0.0.1:0", "127.0.0.1", 0},
      {"host:65535", "host", 65535},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto address = parseListenAddress(c.text);
    ASSERT_TRUE(address.has_value());
    EXPECT_EQ(address->host, c.host);
    EXPECT_EQ(address->port, c.port);
  }
}

TEST(ParseListenAddress, RejectsMissingOrInvalidPort) {
  for (const std::string text :
       {"", "0.0.0.0", "0.0.0.0:", ":", "localhost", "host:65536", "host:-1", "host:80x",
        "host:+80", "host: 80", "::1:80", "[::1]", "[::1]:", "[::1]80", "host:99999999999"}) {
    SCOPED_TRACE(text);
    EXPECT_FALSE(parseListenAddress(text).has_value());
  }
}

}  // namespace
}  // namespace pullguard

namespace pullguard {
namespace {

TEST(ParseConfig, ReadsThresholdsAndForecastSettings) {
  const ConfigResult result = parseConfig(R"({
    "thresholds": {"warning_ratio": 0.3, "critical_ratio": 0.1, "warning_remaining": 40,
                   "critical_remaining": 10, "forecast_horizon_seconds": 7200,
                   "hysteresis_ratio": 0.1},
    "forecast": {"short_lookback_seconds": 600, "long_lookback_seconds": 7200}})");
  ASSERT_TRUE(result.config) << result.error;
  const Thresholds& t = result.config->thresholds;
  EXPECT_DOUBLE_EQ(t.warning_ratio, 0.3);
  EXPECT_EQ(t.warning_remaining, 40);
  EXPECT_EQ(t.critical_remaining, 10);
  EXPECT_EQ(t.forecast_horizon_seconds, 7200);
  EXPECT_DOUBLE_EQ(t.hysteresis_ratio, 0.1);
  EXPECT_EQ(result.config->forecast.short_lookback_seconds, 600);
  EXPECT_EQ(result.config->forecast.long_lookback_seconds, 7200);
}

TEST(ParseConfig, ForecastDefaults) {
  const ConfigResult result = parseConfig("{}");
  ASSERT_TRUE(result.config);
  EXPECT_FALSE(result.config->thresholds.warning_remaining);
  EXPECT_EQ(result.config->thresholds.forecast_horizon_seconds, 3600);
  EXPECT_DOUBLE_EQ(result.config->thresholds.hysteresis_ratio, 0.05);
  EXPECT_EQ(result.config->forecast.short_lookback_seconds, 900);
  EXPECT_EQ(result.config->forecast.long_lookback_seconds, 3600);
  ASSERT_EQ(result.config->alerts.sinks.size(), 1u);
  EXPECT_EQ(result.config->alerts.sinks[0].type, SinkType::kLog);
}

}  // namespace
}  // namespace pullguard

namespace pullguard {
namespace {

// The README points at this file as the full example: it must stay valid.
TEST(ParseConfig, TheDocumentedExampleIsValid) {
  std::ifstream in(std::string(PULLGUARD_TESTDATA_DIR) + "/../../docs/examples/pullguard.json");
  ASSERT_TRUE(in);
  std::ostringstream text;
  text << in.rdbuf();
  const ConfigResult result = parseConfig(text.str());
  ASSERT_TRUE(result.config) << result.error;
  EXPECT_EQ(result.config->alerts.sinks.size(), 4u);
}

}  // namespace
}  // namespace pullguard
