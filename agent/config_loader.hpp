// Loads the configuration the daemon runs with: reads the file (or takes the built-in
// default), validates it, and reads every identity's secret. Fails fast with one line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "alerts/alerts_config.hpp"
#include "config.hpp"
#include "docker_config.hpp"

namespace pullguard {

// An identity with its secret read; credentials are empty for anonymous identities.
struct Identity {
  IdentityConfig config;
  std::optional<BasicCredentials> credentials;
};

struct LoadedConfig {
  Config config;
  std::vector<Identity> identities;       // same order as config.identities
  std::vector<ResolvedSink> alert_sinks;  // config.alerts.sinks with their secrets read
  std::vector<std::string> warnings;      // e.g. a secret file others can read
};

struct LoadResult {
  std::optional<LoadedConfig> loaded;
  std::string error;  // "config: <field path>: <problem>", when loaded is empty
};

// `path` empty: the built-in default. Environment variables are read through getenv.
LoadResult loadConfig(const std::string& path);

// Reads one identity's secret: password_env, password_file or docker_config. `field` is the
// identity's path ("identities[1]") for error messages, which never contain the secret.
struct CredentialsResult {
  std::optional<BasicCredentials> credentials;
  std::string error;
  std::string warning;
};
CredentialsResult resolveCredentials(const IdentityConfig& identity, const std::string& field,
                                     const std::string& registry_url);

// host[:port] of an http(s) URL.
std::string urlHost(const std::string& url);

}  // namespace pullguard
