// Parses Docker Hub's rate-limit response headers (ratelimit-limit, ratelimit-remaining,
// docker-ratelimit-source). Pure: text in, values out; lenient as the real headers demand.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http_types.hpp"

namespace pullguard {

// One header value such as "100;w=21600": a leading integer and an optional window.
struct QuotaValue {
  std::int64_t count = 0;
  std::optional<std::int64_t> window_seconds;
};

// Lenient: leading decimal integer (surrounding spaces allowed), then optional parameters
// separated by ';' of which only w=<int> is used. Returns nullopt when there is no leading
// integer or it is negative or out of range.
std::optional<QuotaValue> parseQuotaValue(std::string_view value);

enum class RateLimitStatus {
  kPresent,    // both limit and remaining parsed
  kAbsent,     // neither header present (paid plan or exempt image)
  kMalformed,  // one of them is missing or cannot be parsed
};

struct RateLimitReading {
  RateLimitStatus status = RateLimitStatus::kAbsent;
  std::int64_t limit = 0;      // valid when kPresent
  std::int64_t remaining = 0;  // valid when kPresent
  // From remaining's w=, else limit's w=; nullopt when neither carries one. Never assumed.
  std::optional<std::int64_t> window_seconds;
  std::string source;  // docker-ratelimit-source, empty when absent (may be set even if kAbsent)
  std::string error;   // one line naming the header and the problem, when kMalformed
};

// Header names are matched without regard to case.
RateLimitReading parseRateLimit(const HttpHeaders& headers);

}  // namespace pullguard
