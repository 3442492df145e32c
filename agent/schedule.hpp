// When the next probe of a bucket runs: the interval, doubled per consecutive failure up to a
// cap, spread by random jitter so hosts behind one NAT gateway do not probe in step. Pure.
#pragma once

#include <chrono>
#include <cstdint>

#include "config.hpp"

namespace pullguard {

// `unit_random` is uniform in [0, 1); the result is interval * 2^failures (capped at
// max_backoff_seconds) times a factor in [1 - jitter_ratio, 1 + jitter_ratio).
std::chrono::milliseconds nextProbeDelay(const ProbeConfig& probe, std::uint32_t failures,
                                         double unit_random);

// The first probe after start or reload: soon, so metrics appear quickly, but spread over up
// to five seconds (and no more than the jitter allows) so a fleet that restarts together does not
// probe together.
std::chrono::milliseconds firstProbeDelay(const ProbeConfig& probe, double unit_random);

}  // namespace pullguard
