#include "ratelimit.hpp"

#include <charconv>
#include <system_error>

namespace pullguard {
namespace {

constexpr std::string_view kLimitHeader = "ratelimit-limit";
constexpr std::string_view kRemainingHeader = "ratelimit-remaining";
constexpr std::string_view kSourceHeader = "docker-ratelimit-source";

// A header value can be a megabyte of anything; an error line quotes only this much of it.
constexpr std::size_t kMaxQuotedChars = 40;

bool isSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && isSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && isSpace(text.back())) text.remove_suffix(1);
  return text;
}

// Reads a non-negative decimal integer at the start of `text` and advances past it. A sign is
// not accepted, so negative counts are rejected here rather than later.
std::optional<std::int64_t> takeInteger(std::string_view& text) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc()) return std::nullopt;  // out of range
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return value;
}

// One ';'-separated parameter; returns the window if it is "w=<int>". A zero window is
// treated as absent: it carries no information and would only invite a division by zero.
std::optional<std::int64_t> windowParameter(std::string_view parameter) {
  parameter = trim(parameter);
  if (parameter.empty() || (parameter.front() != 'w' && parameter.front() != 'W')) {
    return std::nullopt;
  }
  parameter = trim(parameter.substr(1));
  if (parameter.empty() || parameter.front() != '=') return std::nullopt;
  parameter = trim(parameter.substr(1));
  const auto window = takeInteger(parameter);
  if (!window || !parameter.empty() || *window == 0) return std::nullopt;
  return window;
}

// Quotes a header value for an error line: printable ASCII only, at most kMaxQuotedChars.
std::string quoteForLog(std::string_view text) {
  std::string quoted = "\"";
  std::size_t kept = 0;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) continue;
    if (kept == kMaxQuotedChars) return quoted + "...\"";
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
    ++kept;
  }
  return quoted + "\"";
}

std::string notACount(std::string_view header, std::string_view value) {
  return std::string(header) + ": " + quoteForLog(value) + " is not a count";
}

}  // namespace

std::optional<QuotaValue> parseQuotaValue(std::string_view value) {
  value = trim(value);
  const auto count = takeInteger(value);
  if (!count) return std::nullopt;
  QuotaValue quota;
  quota.count = *count;
  // Whatever follows the integer up to the first ';' is ignored: that is how "200=21600", seen
  // in the wild, still yields its count.
  auto separator = value.find(';');
  while (separator != std::string_view::npos) {
    value.remove_prefix(separator + 1);
    separator = value.find(';');
    if (const auto window = windowParameter(value.substr(0, separator))) {
      quota.window_seconds = window;
      break;
    }
  }
  return quota;
}

namespace {

// The source becomes a metric label and a log field: an IP, a /64 or a UUID is under 40
// bytes, so a longer or binary value is a broken registry and is cut down, not passed on.
std::string boundedSource(std::string_view value) {
  constexpr std::size_t kMaxSourceBytes = 64;
  std::string source;
  for (char c : value) {
    if (source.size() == kMaxSourceBytes) break;
    if (static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f) source += c;
  }
  return source;
}

}  // namespace

RateLimitReading parseRateLimit(const HttpHeaders& headers) {
  RateLimitReading reading;
  if (const auto source = findHeader(headers, kSourceHeader)) {
    reading.source = boundedSource(trim(*source));
  }
  const auto limit_text = findHeader(headers, kLimitHeader);
  const auto remaining_text = findHeader(headers, kRemainingHeader);
  if (!limit_text && !remaining_text) return reading;  // paid plan or exempt image

  reading.status = RateLimitStatus::kMalformed;
  if (!limit_text) {
    reading.error = std::string(kLimitHeader) + " header missing";
    return reading;
  }
  if (!remaining_text) {
    reading.error = std::string(kRemainingHeader) + " header missing";
    return reading;
  }
  const auto limit = parseQuotaValue(*limit_text);
  if (!limit) {
    reading.error = notACount(kLimitHeader, *limit_text);
    return reading;
  }
  const auto remaining = parseQuotaValue(*remaining_text);
  if (!remaining) {
    reading.error = notACount(kRemainingHeader, *remaining_text);
    return reading;
  }
  reading.status = RateLimitStatus::kPresent;
  reading.limit = limit->count;
  reading.remaining = remaining->count;
  reading.window_seconds =
      remaining->window_seconds ? remaining->window_seconds : limit->window_seconds;
  return reading;
}

}  // namespace pullguard
