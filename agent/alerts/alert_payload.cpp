#include "alerts/alert_payload.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

namespace pullguard {
namespace {

// Insertion order, so the document reads in the order docs/alerts.md lists the fields.
using OrderedJson = nlohmann::ordered_json;

template <typename T>
OrderedJson orNull(const std::optional<T>& value) {
  if (!value) return nullptr;
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(*value)) return nullptr;
  }
  return *value;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string_view levelEmoji(AlertLevel level) {
  switch (level) {
    case AlertLevel::kOk:
      return ":white_check_mark:";
    case AlertLevel::kWarning:
      return ":warning:";
    case AlertLevel::kCritical:
      return ":rotating_light:";
    case AlertLevel::kExhausted:
      return ":no_entry:";
  }
  return ":warning:";
}

// "18 of 100 pulls left; <reason>", without saying the count twice when the reason (written by
// the level logic for people) already starts with it.
std::string budgetAndReason(const AlertEvent& event) {
  std::string counts;
  if (event.remaining && event.limit) {
    counts =
        std::to_string(*event.remaining) + " of " + std::to_string(*event.limit) + " pulls left";
  }
  const std::string reason = oneLine(event.reason);
  if (counts.empty() || reason.starts_with(counts)) return reason;
  if (reason.empty()) return counts;
  return counts + "; " + reason;
}

}  // namespace

std::string formatAlertTimestamp(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string formatNumber(double value) {
  if (!std::isfinite(value)) return "";
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc{} ? std::string(buffer, end) : "";
}

std::string oneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

std::string renderWebhookPayload(const AlertEvent& event, std::string_view hostname,
                                 std::string_view version) {
  OrderedJson document;
  document["version"] = kWebhookPayloadVersion;
  document["kind"] = alertEventKindName(event.kind);
  document["level"] = alertLevelName(event.level);
  document["previous_level"] = alertLevelName(event.previous_level);
  document["identity"] = event.identity;
  document["family"] = familyName(event.family);
  document["source"] = event.source;
  document["remaining"] = orNull(event.remaining);
  document["limit"] = orNull(event.limit);
  document["window_seconds"] = orNull(event.window_seconds);
  document["consumption_rate_per_second"] = orNull(event.consumption_rate);
  document["exhaustion_seconds"] = orNull(event.exhaustion_seconds);
  document["next_refill_seconds"] = orNull(event.next_refill_seconds);
  document["reason"] = event.reason;
  document["timestamp"] = formatAlertTimestamp(event.at);
  document["agent"] = {{"hostname", hostname}, {"version", version}};
  // Invalid UTF-8 in a name must not throw from a worker thread: replace it instead.
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string hmacSha256Hex(std::string_view key, std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

std::string signatureHeaderLine(std::string_view key, std::string_view body) {
  return std::string(kSignatureHeader) + ": sha256=" + hmacSha256Hex(key, body);
}

std::string escapeSlack(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string slackText(const AlertEvent& event) {
  const bool resolved = event.kind == AlertEventKind::kResolved;
  std::string text(levelEmoji(resolved ? AlertLevel::kOk : event.level));
  text += " pullguard *";
  text += resolved ? "RESOLVED" : upper(alertLevelName(event.level));
  text += "*";
  if (event.kind == AlertEventKind::kRepeat) text += " (still)";
  text += " " + oneLine(event.identity) + "/" + std::string(familyName(event.family));
  if (!event.source.empty()) text += " (" + oneLine(event.source) + ")";
  text += ":";
  if (resolved) {
    text += " back to ok from " + std::string(alertLevelName(event.previous_level));
    if (std::string rest = budgetAndReason(event); !rest.empty()) text += "; " + rest;
  } else if (std::string rest = budgetAndReason(event); !rest.empty()) {
    text += " " + rest;
  }
  return escapeSlack(text);
}

std::string renderSlackPayload(const AlertEvent& event) {
  OrderedJson document;
  document["text"] = slackText(event);
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace pullguard
