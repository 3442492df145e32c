// libFuzzer target for the token endpoint's JSON reply and the RFC 3339 time parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "token.hpp"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)pullguard::parseRfc3339(text);
  const auto result = pullguard::parseTokenResponse(text);
  if (!result.value) {
    // Errors are fixed phrases; they can never echo the body, which may hold a token.
    check(result.error.rfind("token response", 0) == 0 && result.error.size() < 100);
    return 0;
  }
  check(result.error.empty() && !result.value->token.empty());
  check(result.value->expires_in_seconds >= pullguard::kMinimumTokenLifetimeSeconds);
  check(result.value->expires_in_seconds <= pullguard::kMaximumTokenLifetimeSeconds);
  for (const char c : result.value->token) check(c > 0x20 && c < 0x7f);
  return 0;
}
