// libFuzzer target for the WWW-Authenticate parser and the token URL built from its result.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "challenge.hpp"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

bool isUrlQueryChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-._~:/%=&?").find(c) != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto result = pullguard::parseBearerChallenge(text);
  if (!result.challenge) {
    check(!result.error.empty() && result.error.find('\n') == std::string::npos);
    return 0;
  }
  check(result.error.empty() && !result.challenge->realm.empty());
  const auto& realm = result.challenge->realm;
  const auto url = pullguard::buildTokenUrl(*result.challenge, "repository:library/alpine:pull");
  // Everything appended after the realm must be a well-formed query, whatever the challenge held.
  const auto base = realm.substr(0, realm.find('#'));
  check(url.compare(0, base.size(), base) == 0);
  for (const char c : std::string_view(url).substr(base.size())) check(isUrlQueryChar(c));
  return 0;
}
