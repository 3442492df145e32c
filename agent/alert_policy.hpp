// A bucket's alert level from its last reading, its forecast and the thresholds, with the
// hysteresis that keeps a count dancing on a threshold from flapping. Pure.
#pragma once

#include <cstdint>
#include <optional>

#include "alerts/alert_event.hpp"
#include "config.hpp"

namespace pullguard {

struct LevelInputs {
  std::optional<std::int64_t> remaining;  // of the last good reading; empty when none
  std::int64_t limit = 0;
  bool unlimited = false;
  bool rate_limited = false;  // the last probe was answered 429
  std::optional<double> exhaustion_seconds;
};

// The count at or below which a bucket is warning (critical): the larger of the ratio of the
// limit and the absolute count, when one is set.
double warningCount(const Thresholds& thresholds, std::int64_t limit);
double criticalCount(const Thresholds& thresholds, std::int64_t limit);

// A rise takes effect at once. A fall only once the reading is hysteresis_ratio x limit clear
// of the threshold it crossed, and the forecast a quarter beyond the horizon (or gone).
AlertLevel evaluateAlertLevel(const LevelInputs& inputs, const Thresholds& thresholds,
                              AlertLevel previous);

// What a change from `previous` to `current` tells the sinks, if anything.
std::optional<AlertEventKind> transitionKind(AlertLevel previous, AlertLevel current);

}  // namespace pullguard
