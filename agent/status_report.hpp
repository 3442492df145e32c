// The answer to "how many pulls are left": the overall status with its Nagios-style exit
// code, and its JSON and text renderings. Shared by `pullguard check` (fresh probes) and
// /api/v1/status (the last probes). Pure.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "address_family.hpp"
#include "config.hpp"
#include "probe_result.hpp"
#include "snapshot.hpp"

namespace pullguard {

// Values are the exit codes of `pullguard check` (Nagios plugin convention).
enum class CheckStatus { kOk = 0, kWarning = 1, kCritical = 2, kUnknown = 3 };
std::string_view statusName(CheckStatus status);

struct StatusEntry {
  std::string identity;
  AddressFamily family = AddressFamily::kAny;
  std::optional<ProbeOutcome> outcome;  // empty: not probed yet
  std::string source;
  std::optional<Quota> quota;  // empty when unknown or unlimited
  bool unlimited = false;
  double duration_seconds = 0;
  std::string error;                                                 // one line, empty when none
  std::optional<std::chrono::system_clock::time_point> observed_at;  // of quota / unlimited
  // From the budget model; empty before the bucket has a reading.
  std::optional<Forecast> forecast;
  AlertLevel alert_level = AlertLevel::kOk;
};

std::vector<StatusEntry> entriesFromSnapshot(const Snapshot& snapshot);

// critical: remaining 0 or remaining/limit <= critical_ratio, or the alert level is critical
// or exhausted; else unknown: a probe failed or has not run; else warning: remaining/limit <=
// warning_ratio or the alert level is warning (the forecast empties it within the horizon);
// else ok.
CheckStatus entryStatus(const StatusEntry& entry, const Thresholds& thresholds);
CheckStatus overallStatus(const std::vector<StatusEntry>& entries, const Thresholds& thresholds);

// `forecast` names the lookbacks of the consumption rates ("15m", "1h").
std::string renderStatusJson(const std::vector<StatusEntry>& entries, const Thresholds& thresholds,
                             const ForecastConfig& forecast = {});
std::string renderStatusText(const std::vector<StatusEntry>& entries, const Thresholds& thresholds);

}  // namespace pullguard
