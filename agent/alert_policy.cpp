#include "alert_policy.hpp"

#include <algorithm>

namespace pullguard {
namespace {

// How far a fall must clear the thresholds; zero margins give the plain level.
struct Margins {
  double count = 0;
  double horizon_factor = 1;
};

AlertLevel levelWith(const LevelInputs& inputs, const Thresholds& thresholds,
                     const Margins& margins) {
  if (inputs.rate_limited) return AlertLevel::kExhausted;
  if (inputs.unlimited || !inputs.remaining) return AlertLevel::kOk;
  const double remaining = static_cast<double>(*inputs.remaining);
  const double limit = static_cast<double>(inputs.limit);
  // The margin never lifts a threshold to the limit: a full bucket always clears.
  auto clearOf = [&](double threshold) {
    return threshold + std::min(margins.count, std::max(0.0, limit - 1 - threshold));
  };
  if (remaining <= clearOf(0)) return AlertLevel::kExhausted;
  if (inputs.limit <= 0) return AlertLevel::kOk;
  const double critical = criticalCount(thresholds, inputs.limit);
  if (remaining <= clearOf(critical)) return AlertLevel::kCritical;
  // A critical count above the warning one still warns before it goes critical.
  if (remaining <= clearOf(std::max(warningCount(thresholds, inputs.limit), critical))) {
    return AlertLevel::kWarning;
  }
  const double horizon =
      static_cast<double>(thresholds.forecast_horizon_seconds) * margins.horizon_factor;
  if (horizon > 0 && inputs.exhaustion_seconds && *inputs.exhaustion_seconds <= horizon) {
    return AlertLevel::kWarning;
  }
  return AlertLevel::kOk;
}

}  // namespace

double warningCount(const Thresholds& thresholds, std::int64_t limit) {
  const double by_ratio = thresholds.warning_ratio * static_cast<double>(limit);
  return std::max(by_ratio, static_cast<double>(thresholds.warning_remaining.value_or(0)));
}

double criticalCount(const Thresholds& thresholds, std::int64_t limit) {
  const double by_ratio = thresholds.critical_ratio * static_cast<double>(limit);
  return std::max(by_ratio, static_cast<double>(thresholds.critical_remaining.value_or(0)));
}

AlertLevel evaluateAlertLevel(const LevelInputs& inputs, const Thresholds& thresholds,
                              AlertLevel previous) {
  const AlertLevel plain = levelWith(inputs, thresholds, {});
  if (plain >= previous) return plain;
  const Margins clear{thresholds.hysteresis_ratio * static_cast<double>(inputs.limit), 1.25};
  return std::min(previous, levelWith(inputs, thresholds, clear));
}

std::optional<AlertEventKind> transitionKind(AlertLevel previous, AlertLevel current) {
  if (previous == current) return std::nullopt;
  return current == AlertLevel::kOk ? AlertEventKind::kResolved : AlertEventKind::kFiring;
}

}  // namespace pullguard
