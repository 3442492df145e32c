// libFuzzer target for the Docker config.json reader and its base64 decoder. The first byte
// picks the configured registry host, so the registry-entry path is explored too.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "docker_config.hpp"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

constexpr std::array<std::string_view, 3> kRegistryHosts = {"", "127.0.0.1:5000",
                                                            "registry-1.docker.io"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (const auto decoded = pullguard::decodeBase64(text)) check(decoded->size() <= text.size());

  const auto host = kRegistryHosts[data[0] % kRegistryHosts.size()];
  const auto result = pullguard::parseDockerConfig(text, host);
  if (result.credentials) {
    check(result.error.empty() && !result.credentials->username.empty());
    check(!result.credentials->password.empty());
    return 0;
  }
  check(!result.error.empty() && result.error.size() < 400);
  for (const char c : result.error) check(c >= 0x20 && c < 0x7f);
  return 0;
}
