#include "config.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "config_reader.hpp"

namespace pullguard {
namespace {

using Json = nlohmann::json;

void readRegistry(ObjectReader& root, RegistryConfig& registry) {
  const Json* value = root.find("registry");
  if (!value) return;
  ObjectReader reader(*value, "registry");
  reader.readString("url", registry.url);
  reader.readString("repository", registry.repository);
  reader.readString("reference", registry.reference);
  reader.rejectUnknownKeys();
  // Credentials belong in identities, and an error must not echo them.
  if (registry.url.find('@') != std::string::npos) {
    fail("registry.url", "must not contain user information; put credentials in identities");
  }
  if (!registry.url.starts_with("https://") && !registry.url.starts_with("http://")) {
    fail("registry.url", "\"" + registry.url + "\" must start with https:// or http://");
  }
  while (registry.url.ends_with('/')) registry.url.pop_back();
  if (registry.url.find_first_of(" \t\r\n?#") != std::string::npos) {
    fail("registry.url", "must not contain spaces, a query or a fragment");
  }
  if (registry.repository.empty() ||
      registry.repository.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-/") !=
          std::string::npos) {
    fail("registry.repository", "\"" + registry.repository + "\" is not a repository name");
  }
  if (registry.reference.empty() ||
      registry.reference.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:") !=
          std::string::npos) {
    fail("registry.reference", "\"" + registry.reference + "\" is not a tag or digest");
  }
}

void readProbe(ObjectReader& root, ProbeConfig& probe) {
  const Json* value = root.find("probe");
  if (!value) return;
  ObjectReader reader(*value, "probe");
  const bool backoff_given = value->is_object() && value->contains("max_backoff_seconds");
  reader.readInteger("interval_seconds", probe.interval_seconds);
  reader.readInteger("timeout_seconds", probe.timeout_seconds);
  reader.readNumber("jitter_ratio", probe.jitter_ratio);
  reader.readInteger("max_backoff_seconds", probe.max_backoff_seconds);
  reader.rejectUnknownKeys();
  if (probe.interval_seconds < kMinimumIntervalSeconds) {
    fail("probe.interval_seconds", std::to_string(probe.interval_seconds) +
                                       " is below the minimum of " +
                                       std::to_string(kMinimumIntervalSeconds));
  }
  if (probe.timeout_seconds < 1 || probe.timeout_seconds > probe.interval_seconds) {
    fail("probe.timeout_seconds", "must be between 1 and probe.interval_seconds (" +
                                      std::to_string(probe.interval_seconds) + ")");
  }
  if (!(probe.jitter_ratio >= 0.0 && probe.jitter_ratio <= 0.5)) {
    fail("probe.jitter_ratio", "must be between 0 and 0.5");
  }
  // The default cap must not turn a long interval into an error about a key nobody wrote.
  if (!backoff_given) {
    probe.max_backoff_seconds = std::max(probe.max_backoff_seconds, probe.interval_seconds);
  }
  if (probe.max_backoff_seconds < probe.interval_seconds) {
    fail("probe.max_backoff_seconds", "must be at least probe.interval_seconds (" +
                                          std::to_string(probe.interval_seconds) + ")");
  }
}

std::vector<AddressFamily> readFamilies(const Json& value, const std::string& path) {
  if (!value.is_array() || value.empty()) fail(path, "must be a non-empty list");
  std::vector<AddressFamily> families;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    if (!value[i].is_string()) fail(item, "must be a string");
    auto family = parseFamily(value[i].get<std::string>());
    if (!family) fail(item, "\"" + value[i].get<std::string>() + "\" is not any, ipv4 or ipv6");
    for (AddressFamily seen : families) {
      if (seen == *family) fail(item, "\"" + std::string(familyName(*family)) + "\" repeated");
    }
    families.push_back(*family);
  }
  // "any" leaves by either family, so with ipv4 or ipv6 beside it one bucket would be probed
  // twice under two names.
  if (families.size() > 1) {
    for (AddressFamily family : families) {
      if (family == AddressFamily::kAny) fail(path, "\"any\" cannot be combined with ipv4 or ipv6");
    }
  }
  return families;
}

void checkCredentialChoice(const IdentityConfig& identity, const std::string& path) {
  const int password_sources = !identity.password_env.empty() + !identity.password_file.empty();
  if (password_sources > 1) fail(path, "password_env and password_file are exclusive");
  if (!identity.docker_config.empty() && (!identity.username.empty() || password_sources > 0)) {
    fail(path, "docker_config cannot be combined with username, password_env or password_file");
  }
  if (!identity.username.empty() && password_sources == 0) {
    fail(path, "username needs password_env or password_file");
  }
  if (identity.username.empty() && password_sources > 0) {
    fail(path, "password_env and password_file need a username");
  }
}

bool isLabelSafe(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

IdentityConfig readIdentity(const Json& value, const std::string& path) {
  ObjectReader reader(value, path);
  IdentityConfig identity;
  if (!reader.find("name")) fail(reader.field("name"), "required");
  reader.readString("name", identity.name);
  reader.readString("username", identity.username);
  reader.readString("password_env", identity.password_env);
  reader.readString("password_file", identity.password_file);
  reader.readString("docker_config", identity.docker_config);
  if (const Json* families = reader.find("families")) {
    identity.families = readFamilies(*families, reader.field("families"));
  }
  reader.rejectUnknownKeys();
  if (!isLabelSafe(identity.name)) {
    fail(reader.field("name"), "must be 1 to 64 printable characters");
  }
  checkCredentialChoice(identity, path);
  return identity;
}

void readIdentities(ObjectReader& root, std::vector<IdentityConfig>& identities) {
  const Json* value = root.find("identities");
  if (!value) return;  // keep the default anonymous identity
  if (!value->is_array() || value->empty()) fail("identities", "must be a non-empty list");
  identities.clear();
  std::set<std::string> names;
  for (std::size_t i = 0; i < value->size(); ++i) {
    const std::string path = "identities[" + std::to_string(i) + "]";
    IdentityConfig identity = readIdentity((*value)[i], path);
    if (!names.insert(identity.name).second) {
      fail(path + ".name", "\"" + identity.name + "\" is used by another identity");
    }
    identities.push_back(std::move(identity));
  }
}

void readOptionalCount(ObjectReader& reader, std::string_view key,
                       std::optional<std::int64_t>& out) {
  if (!reader.find(key)) return;
  std::int64_t value = 0;
  reader.readInteger(key, value);
  if (value < 0) fail(reader.field(key), "must not be negative");
  out = value;
}

void readThresholds(ObjectReader& root, Thresholds& thresholds) {
  const Json* value = root.find("thresholds");
  if (!value) return;
  ObjectReader reader(*value, "thresholds");
  reader.readNumber("warning_ratio", thresholds.warning_ratio);
  reader.readNumber("critical_ratio", thresholds.critical_ratio);
  readOptionalCount(reader, "warning_remaining", thresholds.warning_remaining);
  readOptionalCount(reader, "critical_remaining", thresholds.critical_remaining);
  reader.readInteger("forecast_horizon_seconds", thresholds.forecast_horizon_seconds);
  reader.readNumber("hysteresis_ratio", thresholds.hysteresis_ratio);
  reader.rejectUnknownKeys();
  if (!(thresholds.warning_ratio >= 0.0 && thresholds.warning_ratio <= 1.0)) {
    fail("thresholds.warning_ratio", "must be between 0 and 1");
  }
  if (!(thresholds.critical_ratio >= 0.0 && thresholds.critical_ratio <= 1.0)) {
    fail("thresholds.critical_ratio", "must be between 0 and 1");
  }
  if (thresholds.critical_ratio > thresholds.warning_ratio) {
    fail("thresholds.critical_ratio", "must not exceed thresholds.warning_ratio");
  }
  if (thresholds.warning_remaining && thresholds.critical_remaining &&
      *thresholds.critical_remaining > *thresholds.warning_remaining) {
    fail("thresholds.critical_remaining", "must not exceed thresholds.warning_remaining");
  }
  if (thresholds.forecast_horizon_seconds < 0 || thresholds.forecast_horizon_seconds > 7 * 86400) {
    fail("thresholds.forecast_horizon_seconds", "must be between 0 (off) and 604800");
  }
  if (!(thresholds.hysteresis_ratio >= 0.0 && thresholds.hysteresis_ratio <= 0.5)) {
    fail("thresholds.hysteresis_ratio", "must be between 0 and 0.5");
  }
}

void readForecast(ObjectReader& root, ForecastConfig& forecast) {
  const Json* value = root.find("forecast");
  if (!value) return;
  ObjectReader reader(*value, "forecast");
  reader.readInteger("short_lookback_seconds", forecast.short_lookback_seconds);
  reader.readInteger("long_lookback_seconds", forecast.long_lookback_seconds);
  reader.rejectUnknownKeys();
  if (forecast.short_lookback_seconds < 60 || forecast.short_lookback_seconds > 86400) {
    fail("forecast.short_lookback_seconds", "must be between 60 and 86400");
  }
  if (forecast.long_lookback_seconds < forecast.short_lookback_seconds ||
      forecast.long_lookback_seconds > 86400) {
    fail("forecast.long_lookback_seconds",
         "must be between forecast.short_lookback_seconds and 86400");
  }
}

void readWeb(ObjectReader& root, WebConfig& web) {
  const Json* value = root.find("web");
  if (!value) return;
  ObjectReader reader(*value, "web");
  reader.readString("listen_address", web.listen_address);
  reader.rejectUnknownKeys();
  if (!parseListenAddress(web.listen_address)) {
    fail("web.listen_address", "\"" + web.listen_address + "\" is not host:port");
  }
}

// nlohmann's message ends with "; last read: '...'", which echoes file content: drop it.
std::string describeParseError(const nlohmann::json::parse_error& error) {
  std::string message = error.what();
  if (auto pos = message.find("] "); pos != std::string::npos) message.erase(0, pos + 2);
  if (auto pos = message.find("; last read"); pos != std::string::npos) message.erase(pos);
  return message;
}

}  // namespace

Config defaultConfig() {
  Config config;
  config.identities.push_back(IdentityConfig{.name = "anonymous"});
  config.alerts.sinks.push_back(SinkConfig{.type = SinkType::kLog, .name = "log"});
  return config;
}

ConfigResult parseConfig(std::string_view json_text) {
  Json document;
  try {
    document = Json::parse(json_text);
  } catch (const nlohmann::json::parse_error& error) {
    return {std::nullopt, "invalid JSON: " + describeParseError(error)};
  } catch (const nlohmann::json::exception&) {
    // e.g. out_of_range for 1e999; its text may quote the file, so it is not repeated.
    return {std::nullopt, "invalid JSON: a number is out of range"};
  }
  try {
    Config config = defaultConfig();
    ObjectReader root(document, "");
    readRegistry(root, config.registry);
    readProbe(root, config.probe);
    readIdentities(root, config.identities);
    readThresholds(root, config.thresholds);
    readForecast(root, config.forecast);
    readAlertsConfig(root, config.alerts);
    readWeb(root, config.web);
    root.rejectUnknownKeys();
    return {std::move(config), ""};
  } catch (const ConfigError& error) {
    return {std::nullopt, error.what()};
  }
}

std::optional<ListenAddress> parseListenAddress(std::string_view text) {
  ListenAddress address;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close == std::string_view::npos) return std::nullopt;
    address.host = std::string(text.substr(0, close + 1));
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    address.host = std::string(text.substr(0, colon));
    if (address.host.find(':') != std::string::npos) return std::nullopt;  // IPv6 needs [ ]
    port_text = text.substr(colon + 1);
  }
  if (port_text.empty()) return std::nullopt;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), address.port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || address.port < 0 ||
      address.port > 65535) {
    return std::nullopt;
  }
  return address;
}

}  // namespace pullguard
