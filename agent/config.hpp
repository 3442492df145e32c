// The agent's configuration: its model, the built-in default, and the pure JSON parser that
// validates it. Errors are one line naming the field path ("identities[1].families: ...").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "address_family.hpp"
#include "alerts/alerts_config.hpp"

namespace pullguard {

// Between 9100 and 9999 every port of Prometheus' default port allocations is taken;
// allocations continue above 10000. See README "Port".
inline constexpr const char* kDefaultListenAddress = "0.0.0.0:10217";
inline constexpr const char* kDockerHubRegistryUrl = "https://registry-1.docker.io";
inline constexpr std::int64_t kMinimumIntervalSeconds = 10;

struct RegistryConfig {
  std::string url = kDockerHubRegistryUrl;  // no trailing slash
  std::string repository = "ratelimitpreview/test";
  std::string reference = "latest";
};

struct ProbeConfig {
  std::int64_t interval_seconds = 60;
  std::int64_t timeout_seconds = 10;
  // Each delay is spread by +/- this fraction so hosts behind one NAT do not probe in step.
  double jitter_ratio = 0.1;
  // Consecutive failures double the delay, up to this many seconds.
  std::int64_t max_backoff_seconds = 300;
};

struct IdentityConfig {
  std::string name;
  std::string username;      // empty for anonymous and docker_config identities
  std::string password_env;  // one of these three, or none for anonymous
  std::string password_file;
  std::string docker_config;
  std::vector<AddressFamily> families{AddressFamily::kAny};

  bool anonymous() const { return username.empty() && docker_config.empty(); }
};

// When a bucket's alert level rises. A count threshold, when set, applies beside the ratio
// (whichever is reached first).
struct Thresholds {
  double warning_ratio = 0.2;
  double critical_ratio = 0.05;
  std::optional<std::int64_t> warning_remaining;
  std::optional<std::int64_t> critical_remaining;
  // Warning when the forecast empties the bucket within this many seconds.
  std::int64_t forecast_horizon_seconds = 3600;
  // A level falls only once the count is this fraction of the limit clear of its threshold
  // (and the forecast a quarter beyond the horizon), so it does not flap.
  double hysteresis_ratio = 0.05;
};

// The budget model's lookbacks for the consumption rate; the short one drives the forecast.
struct ForecastConfig {
  std::int64_t short_lookback_seconds = 900;
  std::int64_t long_lookback_seconds = 3600;
};

struct WebConfig {
  std::string listen_address = kDefaultListenAddress;
};

struct Config {
  RegistryConfig registry;
  ProbeConfig probe;
  std::vector<IdentityConfig> identities;
  Thresholds thresholds;
  ForecastConfig forecast;
  AlertsConfig alerts;
  WebConfig web;
};

// One anonymous identity, family any, interval 60 s: what runs without --config.file.
Config defaultConfig();

struct ConfigResult {
  std::optional<Config> config;
  std::string error;  // "<field path>: <problem>", when config is empty
};

// Parses and validates the JSON text of a config file. Unknown keys are errors. Does no I/O:
// credential files and variables are read later, by resolveCredentials().
ConfigResult parseConfig(std::string_view json_text);

// Splits "host:port", "[v6]:port" or ":port"; nullopt when the port is missing or invalid.
struct ListenAddress {
  std::string host;  // empty means all interfaces
  int port = 0;
};
std::optional<ListenAddress> parseListenAddress(std::string_view text);

}  // namespace pullguard
