// libFuzzer target for the rate-limit header parser. The input is read twice: as one header
// value, and as a header block with one "name: value" per line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ratelimit.hpp"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

pullguard::HttpHeaders splitHeaders(std::string_view text) {
  pullguard::HttpHeaders headers;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const auto line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    headers.push_back({std::string(line.substr(0, colon)), std::string(line.substr(colon + 1))});
  }
  return headers;
}

// The error goes into one log line whatever the header held.
void checkErrorLine(std::string_view error) {
  check(!error.empty() && error.size() < 200);
  for (const char c : error) check(c >= 0x20 && c < 0x7f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto quota = pullguard::parseQuotaValue(text)) {
    check(quota->count >= 0);
    check(!quota->window_seconds || *quota->window_seconds > 0);
  }
  const auto reading = pullguard::parseRateLimit(splitHeaders(text));
  switch (reading.status) {
    case pullguard::RateLimitStatus::kPresent:
      check(reading.limit >= 0 && reading.remaining >= 0 && reading.error.empty());
      break;
    case pullguard::RateLimitStatus::kAbsent:
      check(reading.error.empty());
      break;
    case pullguard::RateLimitStatus::kMalformed:
      checkErrorLine(reading.error);
      break;
  }
  return 0;
}
