// What an alert says: a bucket's level changed (or is still bad, for repeats). Built by the
// state's single writer and handed to the notifiers, which render it for each sink. Pure data.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "address_family.hpp"

namespace pullguard {

// Values are those of the pullguard_alert_level metric.
enum class AlertLevel { kOk = 0, kWarning = 1, kCritical = 2, kExhausted = 3 };
inline constexpr AlertLevel kAllAlertLevels[] = {AlertLevel::kOk, AlertLevel::kWarning,
                                                 AlertLevel::kCritical, AlertLevel::kExhausted};

// "ok", "warning", "critical", "exhausted".
inline std::string_view alertLevelName(AlertLevel level) {
  switch (level) {
    case AlertLevel::kOk:
      return "ok";
    case AlertLevel::kWarning:
      return "warning";
    case AlertLevel::kCritical:
      return "critical";
    case AlertLevel::kExhausted:
      return "exhausted";
  }
  return "ok";
}

// firing: the level rose or changed while not ok; resolved: back to ok; repeat: still firing
// after alerts.repeat_interval_seconds.
enum class AlertEventKind { kFiring, kResolved, kRepeat };

inline std::string_view alertEventKindName(AlertEventKind kind) {
  switch (kind) {
    case AlertEventKind::kFiring:
      return "firing";
    case AlertEventKind::kResolved:
      return "resolved";
    case AlertEventKind::kRepeat:
      return "repeat";
  }
  return "firing";
}

struct AlertEvent {
  AlertEventKind kind = AlertEventKind::kFiring;
  AlertLevel level = AlertLevel::kOk;
  AlertLevel previous_level = AlertLevel::kOk;
  std::string identity;  // the configured name, never a secret
  AddressFamily family = AddressFamily::kAny;
  std::string source;  // docker-ratelimit-source, may be empty
  std::optional<std::int64_t> remaining;
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> window_seconds;
  std::optional<double> consumption_rate;     // pulls per second over the short lookback
  std::optional<double> exhaustion_seconds;   // until remaining reaches zero at that rate
  std::optional<double> next_refill_seconds;  // until the next pulls come back
  std::string reason;  // one line for people: "18 of 100 pulls left; empty in ~10 min ..."
  std::chrono::system_clock::time_point at;
};

}  // namespace pullguard
