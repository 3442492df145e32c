// The `alerts` config block: where level changes are sent (webhook, Slack, exec, log) and how
// often a firing alert repeats. Parsing is pure; resolveAlertSinks() reads the sinks' secrets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pullguard {

class ObjectReader;

enum class SinkType { kLog, kWebhook, kSlack, kExec };

// "log", "webhook", "slack", "exec": the config's spelling and a sink's default name.
std::string_view sinkTypeName(SinkType type);

struct SinkConfig {
  SinkType type = SinkType::kLog;
  std::string name;  // label of pullguard_notifications_total{sink}; default: the type name
  // webhook and slack: exactly one of these. A Slack incoming-webhook URL is itself a secret.
  std::string url;
  std::string url_env;
  std::string url_file;
  // webhook: optional HMAC-SHA256 key, from at most one of these.
  std::string hmac_secret_env;
  std::string hmac_secret_file;
  // exec: argv, run without a shell; argv[0] an absolute path.
  std::vector<std::string> command;
  std::int64_t timeout_seconds = 10;
};

struct AlertsConfig {
  std::vector<SinkConfig> sinks;             // default: one log sink
  std::int64_t repeat_interval_seconds = 0;  // 0: notify on changes only
  std::int64_t queue_size = 64;              // per sink; a full queue drops and counts
};

// Reads root's "alerts" key into `alerts` (defaults when absent). Throws ConfigError with the
// field path, like every section parser.
void readAlertsConfig(ObjectReader& root, AlertsConfig& alerts);

// A sink with its secrets read (the URL and the HMAC key); never logged.
struct ResolvedSink {
  SinkConfig config;
  std::string url;
  std::string hmac_secret;
};

struct ResolveSinksResult {
  std::vector<ResolvedSink> sinks;
  std::string error;  // "alerts.sinks[1].url_file: <problem>", never the secret
  std::vector<std::string> warnings;
};

// Reads url_env/url_file/hmac_secret_* (relative files from $CREDENTIALS_DIRECTORY, as for
// identities' password_file), checks the URL read (without echoing it) and that each exec
// sink's command[0] is executable. Stops at the first error.
ResolveSinksResult resolveAlertSinks(const AlertsConfig& alerts);

}  // namespace pullguard
