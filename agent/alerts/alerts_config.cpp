#include "alerts/alerts_config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>

#include "config_reader.hpp"
#include "secret_source.hpp"

namespace pullguard {
namespace {

using Json = nlohmann::json;

constexpr std::int64_t kMinRepeatSeconds = 60;
constexpr std::int64_t kMaxRepeatSeconds = 7 * 24 * 3600;
constexpr std::int64_t kMaxQueueSize = 10'000;
constexpr std::int64_t kMaxTimeoutSeconds = 300;

// Every key some sink type reads, with the types that read it: a key of another type gets a
// message naming the mistake instead of "unknown key".
struct SinkKey {
  const char* key;
  bool log, webhook, slack, exec;
};
constexpr SinkKey kSinkKeys[] = {
    {"url", false, true, true, false},
    {"url_env", false, true, true, false},
    {"url_file", false, true, true, false},
    {"hmac_secret_env", false, true, false, false},
    {"hmac_secret_file", false, true, false, false},
    {"command", false, false, false, true},
    {"timeout_seconds", false, true, true, true},
};

bool keyAllowed(const SinkKey& key, SinkType type) {
  switch (type) {
    case SinkType::kLog:
      return key.log;
    case SinkType::kWebhook:
      return key.webhook;
    case SinkType::kSlack:
      return key.slack;
    case SinkType::kExec:
      return key.exec;
  }
  return false;
}

bool isLabelSafe(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// A present key must say something: "url_env": "" is a mistake, not "no url_env".
void readNonEmpty(ObjectReader& reader, std::string_view key, std::string& out) {
  const bool present = reader.find(key) != nullptr;
  reader.readString(key, out);
  if (present && out.empty()) fail(reader.field(key), "must not be empty");
}

std::vector<std::string> readCommand(const Json& value, const std::string& path) {
  if (!value.is_array() || value.empty()) fail(path, "must be a non-empty list of strings");
  std::vector<std::string> argv;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    if (!value[i].is_string()) fail(item, "must be a string");
    std::string arg = value[i].get<std::string>();
    // execve takes C strings: a NUL would silently cut the argument short.
    if (arg.find('\0') != std::string::npos) fail(item, "must not contain a NUL character");
    argv.push_back(std::move(arg));
  }
  if (argv[0].empty() || argv[0].front() != '/') {
    fail(path + "[0]", "\"" + argv[0] + "\" must be an absolute path (no shell, no PATH search)");
  }
  return argv;
}

// The URL may be a secret (Slack's is), so no message repeats it.
std::string urlProblem(const std::string& url) {
  if (!url.starts_with("https://") && !url.starts_with("http://")) {
    return "must start with https:// or http://";
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return "must not contain spaces or control characters";
    }
  }
  return "";
}

SinkType readSinkType(ObjectReader& reader) {
  const Json* value = reader.find("type");
  if (!value) fail(reader.field("type"), "required");
  if (!value->is_string()) fail(reader.field("type"), "must be a string");
  const std::string text = value->get<std::string>();
  if (text == "log") return SinkType::kLog;
  if (text == "webhook") return SinkType::kWebhook;
  if (text == "slack") return SinkType::kSlack;
  if (text == "exec") return SinkType::kExec;
  fail(reader.field("type"), "\"" + text + "\" is not log, webhook, slack or exec");
}

void checkUrlChoice(const SinkConfig& sink, const std::string& path, ObjectReader& reader) {
  const int sources = !sink.url.empty() + !sink.url_env.empty() + !sink.url_file.empty();
  const std::string type(sinkTypeName(sink.type));
  if (sources == 0) fail(path, type + " needs one of url, url_env or url_file");
  if (sources > 1) fail(path, "url, url_env and url_file are exclusive");
  if (!sink.url.empty()) {
    if (std::string problem = urlProblem(sink.url); !problem.empty()) {
      fail(reader.field("url"), problem);
    }
  }
  if (!sink.hmac_secret_env.empty() && !sink.hmac_secret_file.empty()) {
    fail(path, "hmac_secret_env and hmac_secret_file are exclusive");
  }
}

SinkConfig readSink(const Json& value, const std::string& path) {
  ObjectReader reader(value, path);
  SinkConfig sink;
  sink.type = readSinkType(reader);
  for (const SinkKey& key : kSinkKeys) {
    if (value.contains(key.key) && !keyAllowed(key, sink.type)) {
      fail(reader.field(key.key), "not used by " + std::string(sinkTypeName(sink.type)) + " sinks");
    }
  }
  sink.name = std::string(sinkTypeName(sink.type));
  reader.readString("name", sink.name);
  readNonEmpty(reader, "url", sink.url);
  readNonEmpty(reader, "url_env", sink.url_env);
  readNonEmpty(reader, "url_file", sink.url_file);
  readNonEmpty(reader, "hmac_secret_env", sink.hmac_secret_env);
  readNonEmpty(reader, "hmac_secret_file", sink.hmac_secret_file);
  if (const Json* command = reader.find("command")) {
    sink.command = readCommand(*command, reader.field("command"));
  }
  reader.readInteger("timeout_seconds", sink.timeout_seconds);
  reader.rejectUnknownKeys();

  if (!isLabelSafe(sink.name)) fail(reader.field("name"), "must be 1 to 64 printable characters");
  if (sink.timeout_seconds < 1 || sink.timeout_seconds > kMaxTimeoutSeconds) {
    fail(reader.field("timeout_seconds"),
         "must be between 1 and " + std::to_string(kMaxTimeoutSeconds));
  }
  if (sink.type == SinkType::kWebhook || sink.type == SinkType::kSlack) {
    checkUrlChoice(sink, path, reader);
  }
  if (sink.type == SinkType::kExec && sink.command.empty()) {
    fail(reader.field("command"), "required for exec sinks");
  }
  return sink;
}

std::vector<SinkConfig> readSinks(const Json& value, const std::string& path) {
  if (!value.is_array()) fail(path, "must be a list");
  std::vector<SinkConfig> sinks;
  std::set<std::string> names;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    SinkConfig sink = readSink(value[i], item);
    // The name is the metric label: two sinks under one name would add up as one.
    if (!names.insert(sink.name).second) {
      fail(item + ".name", "\"" + sink.name + "\" is used by another sink");
    }
    sinks.push_back(std::move(sink));
  }
  return sinks;
}

struct UrlRead {
  std::string url;
  std::string error;
  std::string warning;
};

UrlRead resolveUrl(const SinkConfig& sink, const std::string& path) {
  if (!sink.url.empty()) return {sink.url, "", ""};
  const bool from_env = !sink.url_env.empty();
  const std::string field = path + (from_env ? ".url_env" : ".url_file");
  SecretRead read =
      from_env ? readSecretEnv(sink.url_env, field) : readSecretFile(sink.url_file, field);
  if (!read.value) return {"", read.error, ""};
  if (std::string problem = urlProblem(*read.value); !problem.empty()) {
    const std::string where = from_env ? sink.url_env : secretPath(sink.url_file);
    return {"", field + ": the URL in " + where + " " + problem, ""};
  }
  return {std::move(*read.value), "", read.warning};
}

}  // namespace

std::string_view sinkTypeName(SinkType type) {
  switch (type) {
    case SinkType::kLog:
      return "log";
    case SinkType::kWebhook:
      return "webhook";
    case SinkType::kSlack:
      return "slack";
    case SinkType::kExec:
      return "exec";
  }
  return "log";
}

void readAlertsConfig(ObjectReader& root, AlertsConfig& alerts) {
  const Json* value = root.find("alerts");
  if (!value) return;  // keep the default log sink
  ObjectReader reader(*value, "alerts");
  reader.readInteger("repeat_interval_seconds", alerts.repeat_interval_seconds);
  reader.readInteger("queue_size", alerts.queue_size);
  if (const Json* sinks = reader.find("sinks")) {
    alerts.sinks = readSinks(*sinks, reader.field("sinks"));
  }
  reader.rejectUnknownKeys();
  // Under a minute a repeat is noise rather than a reminder; over a week nobody waits for it.
  if (alerts.repeat_interval_seconds != 0 && (alerts.repeat_interval_seconds < kMinRepeatSeconds ||
                                              alerts.repeat_interval_seconds > kMaxRepeatSeconds)) {
    fail(reader.field("repeat_interval_seconds"), "must be 0 (no repeats) or between " +
                                                      std::to_string(kMinRepeatSeconds) + " and " +
                                                      std::to_string(kMaxRepeatSeconds));
  }
  if (alerts.queue_size < 1 || alerts.queue_size > kMaxQueueSize) {
    fail(reader.field("queue_size"), "must be between 1 and " + std::to_string(kMaxQueueSize));
  }
}

namespace {

// access(X_OK) alone accepts a directory, which then fails at the first alert.
bool isExecutableFile(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

ResolveSinksResult resolveAlertSinks(const AlertsConfig& alerts) {
  ResolveSinksResult result;
  for (std::size_t i = 0; i < alerts.sinks.size(); ++i) {
    const SinkConfig& sink = alerts.sinks[i];
    const std::string path = "alerts.sinks[" + std::to_string(i) + "]";
    ResolvedSink resolved{sink, "", ""};
    if (sink.type == SinkType::kWebhook || sink.type == SinkType::kSlack) {
      UrlRead url = resolveUrl(sink, path);
      if (!url.error.empty()) return {{}, url.error, {}};
      if (!url.warning.empty()) result.warnings.push_back(url.warning);
      resolved.url = std::move(url.url);
    }
    if (!sink.hmac_secret_env.empty() || !sink.hmac_secret_file.empty()) {
      SecretRead key = !sink.hmac_secret_env.empty()
                           ? readSecretEnv(sink.hmac_secret_env, path + ".hmac_secret_env")
                           : readSecretFile(sink.hmac_secret_file, path + ".hmac_secret_file");
      if (!key.value) return {{}, key.error, {}};
      if (!key.warning.empty()) result.warnings.push_back(key.warning);
      resolved.hmac_secret = std::move(*key.value);
    }
    // Fail at start rather than at the first alert, hours later, when nobody is watching.
    if (sink.type == SinkType::kExec && !isExecutableFile(sink.command[0])) {
      return {{}, path + ".command[0]: " + sink.command[0] + ": not an executable file", {}};
    }
    result.sinks.push_back(std::move(resolved));
  }
  return result;
}

}  // namespace pullguard
