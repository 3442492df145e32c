// Parses a registry token endpoint's JSON reply (distribution token spec). Pure. Error
// messages never contain the reply's text, because it may hold a token.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pullguard {

// Docker's client raises shorter lifetimes to this; the spec says a token never lives less.
inline constexpr std::int64_t kMinimumTokenLifetimeSeconds = 60;
// Longer lifetimes are cut to this: no registry hands out day-long tokens for pulls (Docker
// Hub: 300 s), and a bounded value keeps `issued_at + expires_in` from overflowing.
inline constexpr std::int64_t kMaximumTokenLifetimeSeconds = 24 * 60 * 60;

struct TokenResponse {
  std::string token;  // `token`, or `access_token` when `token` is absent or empty
  std::int64_t expires_in_seconds = kMinimumTokenLifetimeSeconds;  // clamped to >= the minimum
  std::optional<std::chrono::system_clock::time_point> issued_at;
};

struct TokenParseResult {
  std::optional<TokenResponse> value;
  std::string error;  // one line, never quoting the body
};

TokenParseResult parseTokenResponse(std::string_view json_text);

// RFC 3339 date-time: "2022-11-01T06:11:20.10593176Z" or with a numeric offset ("+02:00").
// Fractional seconds of any length; 'T'/'t' and 'Z'/'z' accepted.
std::optional<std::chrono::system_clock::time_point> parseRfc3339(std::string_view text);

}  // namespace pullguard
