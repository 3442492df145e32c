#include "token.hpp"

#include <nlohmann/json.hpp>

namespace pullguard {
namespace {

using Json = nlohmann::json;
using std::chrono::system_clock;

// Empty when the member is absent or not a string.
std::string_view stringMember(const Json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return {};
  return it->get_ref<const Json::string_t&>();
}

// The token goes into an Authorization header; a CR or LF in it would split that header.
bool isHeaderSafe(std::string_view token) {
  for (const char c : token) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

std::int64_t clampLifetime(std::int64_t seconds) {
  if (seconds < kMinimumTokenLifetimeSeconds) return kMinimumTokenLifetimeSeconds;
  if (seconds > kMaximumTokenLifetimeSeconds) return kMaximumTokenLifetimeSeconds;
  return seconds;
}

// nullopt when expires_in is present but not a number; absent or null means the spec's default.
std::optional<std::int64_t> lifetimeSeconds(const Json& object) {
  const auto it = object.find("expires_in");
  if (it == object.end() || it->is_null()) return kMinimumTokenLifetimeSeconds;
  if (it->is_number_unsigned()) {
    const auto seconds = it->get<std::uint64_t>();
    return seconds > static_cast<std::uint64_t>(kMaximumTokenLifetimeSeconds)
               ? kMaximumTokenLifetimeSeconds
               : clampLifetime(static_cast<std::int64_t>(seconds));
  }
  if (it->is_number_integer()) return clampLifetime(it->get<std::int64_t>());
  if (it->is_number_float()) {
    const double seconds = it->get<double>();
    // Compared as doubles first: casting an out-of-range double to an integer is undefined.
    if (!(seconds >= static_cast<double>(kMinimumTokenLifetimeSeconds))) {
      return kMinimumTokenLifetimeSeconds;
    }
    if (seconds >= static_cast<double>(kMaximumTokenLifetimeSeconds)) {
      return kMaximumTokenLifetimeSeconds;
    }
    return static_cast<std::int64_t>(seconds);
  }
  return std::nullopt;
}

// Reads exactly `count` digits at `pos` and advances past them.
bool readDigits(std::string_view text, std::size_t& pos, std::size_t count, int& value) {
  if (text.size() - pos < count) return false;
  value = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += count;
  return true;
}

bool readChar(std::string_view text, std::size_t& pos, char lower, char upper) {
  if (pos >= text.size() || (text[pos] != lower && text[pos] != upper)) return false;
  ++pos;
  return true;
}

// Any number of fraction digits; those past nanoseconds are dropped.
std::chrono::nanoseconds readFraction(std::string_view text, std::size_t& pos, bool& ok) {
  std::int64_t nanos = 0;
  int digits = 0;
  for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
    if (digits < 9) nanos = nanos * 10 + (text[pos] - '0');
  }
  ok = digits > 0;
  for (int i = digits; i < 9; ++i) nanos *= 10;
  return std::chrono::nanoseconds(nanos);
}

// Seconds east of UTC: "Z" or "+hh:mm" / "-hh:mm".
std::optional<int> readOffset(std::string_view text, std::size_t& pos) {
  if (readChar(text, pos, 'z', 'Z')) return 0;
  if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return std::nullopt;
  const int sign = text[pos++] == '-' ? -1 : 1;
  int hours = 0;
  int minutes = 0;
  if (!readDigits(text, pos, 2, hours) || !readChar(text, pos, ':', ':') ||
      !readDigits(text, pos, 2, minutes) || hours > 23 || minutes > 59) {
    return std::nullopt;
  }
  return sign * (hours * 3600 + minutes * 60);
}

}  // namespace

TokenParseResult parseTokenResponse(std::string_view json_text) {
  const Json object = Json::parse(json_text, nullptr, false);
  if (object.is_discarded() || !object.is_object()) {
    return {std::nullopt, "token response is not a JSON object"};
  }
  TokenResponse response;
  std::string_view token = stringMember(object, "token");
  if (token.empty()) token = stringMember(object, "access_token");
  if (token.empty()) return {std::nullopt, "token response has no token or access_token"};
  if (!isHeaderSafe(token)) {
    return {std::nullopt, "token response: token has characters not allowed in an HTTP header"};
  }
  response.token = std::string(token);
  const auto lifetime = lifetimeSeconds(object);
  if (!lifetime) return {std::nullopt, "token response: expires_in is not a number"};
  response.expires_in_seconds = *lifetime;
  // The spec makes issued_at optional; one we cannot read is as good as absent, and the caller
  // then counts the lifetime from when the exchange completed.
  response.issued_at = parseRfc3339(stringMember(object, "issued_at"));
  return {std::move(response), {}};
}

std::optional<system_clock::time_point> parseRfc3339(std::string_view text) {
  std::size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!readDigits(text, pos, 4, year) || !readChar(text, pos, '-', '-') ||
      !readDigits(text, pos, 2, month) || !readChar(text, pos, '-', '-') ||
      !readDigits(text, pos, 2, day) || !readChar(text, pos, 't', 'T') ||
      !readDigits(text, pos, 2, hour) || !readChar(text, pos, ':', ':') ||
      !readDigits(text, pos, 2, minute) || !readChar(text, pos, ':', ':') ||
      !readDigits(text, pos, 2, second)) {
    return std::nullopt;
  }
  std::chrono::nanoseconds fraction{0};
  if (pos < text.size() && text[pos] == '.') {
    bool ok = false;
    fraction = readFraction(text, ++pos, ok);
    if (!ok) return std::nullopt;
  }
  const auto offset = readOffset(text, pos);
  if (!offset || pos != text.size()) return std::nullopt;

  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  // second == 60 is a leap second; it lands on the next minute's first second.
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  const std::int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - *offset;
  // system_clock counts nanoseconds here, so its range ends in 2262; later dates would overflow.
  constexpr std::int64_t kLimit =
      std::chrono::duration_cast<std::chrono::seconds>(system_clock::duration::max()).count() - 1;
  if (seconds > kLimit || seconds < -kLimit) return std::nullopt;
  return system_clock::time_point(
      std::chrono::duration_cast<system_clock::duration>(std::chrono::seconds(seconds) + fraction));
}

}  // namespace pullguard
