#include "schedule.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

namespace pullguard {
namespace {

using namespace std::chrono_literals;

ProbeConfig probeConfig(std::int64_t interval, double jitter, std::int64_t max_backoff) {
  ProbeConfig probe;
  probe.interval_seconds = interval;
  probe.jitter_ratio = jitter;
  probe.max_backoff_seconds = max_backoff;
  return probe;
}

TEST(NextProbeDelay, MiddleRandomIsTheInterval) {
  EXPECT_EQ(nextProbeDelay(probeConfig(60, 0.1, 300), 0, 0.5), 60'000ms);
}

TEST(NextProbeDelay, DoublesPerFailureUpToTheCap) {
  const ProbeConfig probe = probeConfig(60, 0.1, 300);
  const struct {
    std::uint32_t failures;
    std::chrono::milliseconds delay;
  } cases[] = {
      {0, 60'000ms},   {1, 120'000ms},    {2, 240'000ms},
      {3, 300'000ms},  {4, 300'000ms},    {20, 300'000ms},
      {21, 300'000ms}, {1000, 300'000ms}, {std::numeric_limits<std::uint32_t>::max(), 300'000ms},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(nextProbeDelay(probe, c.failures, 0.5), c.delay) << c.failures;
  }
}

TEST(NextProbeDelay, LargeCapIsReached) {
  const ProbeConfig probe = probeConfig(10, 0, 3600);
  EXPECT_EQ(nextProbeDelay(probe, 8, 0.5), 2'560'000ms);
  EXPECT_EQ(nextProbeDelay(probe, 9, 0.5), 3'600'000ms);
}

TEST(NextProbeDelay, CapBelowIntervalKeepsInterval) {
  EXPECT_EQ(nextProbeDelay(probeConfig(60, 0, 30), 0, 0.5), 60'000ms);
  EXPECT_EQ(nextProbeDelay(probeConfig(60, 0, 30), 5, 0.5), 60'000ms);
}

TEST(NextProbeDelay, JitterSpreadsAroundTheDelay) {
  const ProbeConfig probe = probeConfig(60, 0.1, 300);
  EXPECT_EQ(nextProbeDelay(probe, 0, 0.0), 54'000ms);
  EXPECT_EQ(nextProbeDelay(probe, 0, 0.25), 57'000ms);
  EXPECT_EQ(nextProbeDelay(probe, 0, 0.75), 63'000ms);
  EXPECT_EQ(nextProbeDelay(probe, 2, 0.0), 216'000ms);
  EXPECT_EQ(nextProbeDelay(probe, 3, 0.0), 270'000ms);  // jitter applies to the cap too
  for (int i = 0; i < 1000; ++i) {
    const double unit = i / 1000.0;
    const auto delay = nextProbeDelay(probe, 0, unit);
    EXPECT_GE(delay, 54'000ms) << unit;
    EXPECT_LT(delay, 66'000ms) << unit;
    const auto capped = nextProbeDelay(probe, 10, unit);
    EXPECT_GE(capped, 270'000ms) << unit;
    EXPECT_LT(capped, 330'000ms) << unit;
  }
  EXPECT_LE(nextProbeDelay(probe, 0, std::nextafter(1.0, 0.0)), 66'000ms);
}

TEST(NextProbeDelay, NoJitterIsExact) {
  const ProbeConfig probe = probeConfig(60, 0, 300);
  for (const double unit : {0.0, 0.3, 0.999}) {
    EXPECT_EQ(nextProbeDelay(probe, 0, unit), 60'000ms) << unit;
    EXPECT_EQ(nextProbeDelay(probe, 1, unit), 120'000ms) << unit;
  }
}

TEST(NextProbeDelay, HalfJitter) {
  const ProbeConfig probe = probeConfig(100, 0.5, 1000);
  EXPECT_EQ(nextProbeDelay(probe, 0, 0.0), 50'000ms);
  EXPECT_EQ(nextProbeDelay(probe, 0, 0.5), 100'000ms);
}

TEST(FirstProbeDelay, SpreadsOverAtMostFiveSeconds) {
  const ProbeConfig probe = probeConfig(60, 0.1, 300);  // jitter would allow 6 s
  EXPECT_EQ(firstProbeDelay(probe, 0.0), 0ms);
  EXPECT_EQ(firstProbeDelay(probe, 0.5), 2'500ms);
  EXPECT_EQ(firstProbeDelay(probe, 0.9), 4'500ms);
  for (int i = 0; i < 1000; ++i) {
    const double unit = i / 1000.0;
    const auto delay = firstProbeDelay(probe, unit);
    EXPECT_GE(delay, 0ms);
    EXPECT_LE(delay, 5'000ms);
  }
}

TEST(FirstProbeDelay, NoMoreThanTheJitterAllows) {
  EXPECT_EQ(firstProbeDelay(probeConfig(10, 0.1, 300), 0.5), 500ms);
  EXPECT_EQ(firstProbeDelay(probeConfig(10, 0.1, 300), 0.999), 999ms);
  EXPECT_EQ(firstProbeDelay(probeConfig(20, 0.2, 300), 0.5), 2'000ms);
  EXPECT_EQ(firstProbeDelay(probeConfig(60, 0, 300), 0.7), 0ms);
}

}  // namespace
}  // namespace pullguard
