#include "schedule.hpp"

#include <algorithm>
#include <cmath>

namespace pullguard {

std::chrono::milliseconds nextProbeDelay(const ProbeConfig& probe, std::uint32_t failures,
                                         double unit_random) {
  const double interval = static_cast<double>(probe.interval_seconds);
  const double cap =
      static_cast<double>(std::max(probe.max_backoff_seconds, probe.interval_seconds));
  // 2^20 already exceeds any sane cap; bounding the exponent keeps the arithmetic finite.
  const double backoff = std::min(cap, interval * std::exp2(std::min<std::uint32_t>(failures, 20)));
  const double jitter = 1.0 + probe.jitter_ratio * (2.0 * unit_random - 1.0);
  return std::chrono::milliseconds(std::llround(backoff * jitter * 1000.0));
}

std::chrono::milliseconds firstProbeDelay(const ProbeConfig& probe, double unit_random) {
  const double spread =
      std::min(5.0, static_cast<double>(probe.interval_seconds) * probe.jitter_ratio);
  return std::chrono::milliseconds(std::llround(spread * unit_random * 1000.0));
}

}  // namespace pullguard
