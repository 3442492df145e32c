// libFuzzer target for the config parser (every section, alerts included): any text gives a
// config or one printable error line, and nothing else escapes (an out_of_range from a number
// like 1e999 once did, and ended the daemon on SIGHUP).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config.hpp"

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const pullguard::ConfigResult result = pullguard::parseConfig(text);
  if (result.config) {
    check(result.error.empty() && !result.config->identities.empty());
    check(result.config->probe.interval_seconds >= pullguard::kMinimumIntervalSeconds);
    check(result.config->thresholds.critical_ratio <= result.config->thresholds.warning_ratio);
    return 0;
  }
  check(!result.error.empty());
  for (const char c : result.error) check(c != '\n');
  return 0;
}
