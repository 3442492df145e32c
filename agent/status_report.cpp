#include "status_report.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "alert_policy.hpp"
#include "forecast_text.hpp"

namespace pullguard {
namespace {

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

double roundMillis(double seconds) { return std::round(seconds * 1000.0) / 1000.0; }

int severity(CheckStatus status) {
  switch (status) {
    case CheckStatus::kCritical:
      return 3;
    case CheckStatus::kUnknown:
      return 2;
    case CheckStatus::kWarning:
      return 1;
    case CheckStatus::kOk:
      break;
  }
  return 0;
}

std::string remainingCell(const StatusEntry& entry) {
  if (entry.unlimited) return "unlimited";
  if (!entry.quota) return "-";
  std::string cell =
      std::to_string(entry.quota->remaining) + "/" + std::to_string(entry.quota->limit);
  if (entry.quota->limit > 0) {
    const long percent = std::lround(100.0 * static_cast<double>(entry.quota->remaining) /
                                     static_cast<double>(entry.quota->limit));
    cell += " (" + std::to_string(percent) + "%)";
  }
  return cell;
}

// "empty in ~40 min at 1.8 pulls/min" once there are two readings to tell a rate from.
std::string forecastCell(const StatusEntry& entry) {
  if (!entry.forecast || entry.unlimited || entry.forecast->history_points < 2) return "-";
  return describeForecast(entry.forecast->exhaustion_seconds, entry.forecast->short_rate);
}

}  // namespace

std::string_view statusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kOk:
      return "ok";
    case CheckStatus::kWarning:
      return "warning";
    case CheckStatus::kCritical:
      return "critical";
    case CheckStatus::kUnknown:
      break;
  }
  return "unknown";
}

std::vector<StatusEntry> entriesFromSnapshot(const Snapshot& snapshot) {
  std::vector<StatusEntry> entries;
  for (const SlotSnapshot& slot : snapshot.slots) {
    StatusEntry entry;
    entry.identity = slot.identity;
    entry.family = slot.family;
    entry.outcome = slot.last_outcome;
    entry.source = slot.source;
    entry.quota = slot.quota;
    entry.unlimited = slot.unlimited;
    entry.duration_seconds = slot.last_duration_seconds;
    entry.error = slot.last_outcome ? slot.last_error : "not probed yet";
    entry.observed_at = slot.observed_at;
    if (slot.forecast.history_points > 0) entry.forecast = slot.forecast;
    entry.alert_level = slot.alert_level;
    entries.push_back(std::move(entry));
  }
  return entries;
}

CheckStatus entryStatus(const StatusEntry& entry, const Thresholds& thresholds) {
  std::optional<double> ratio;
  if (entry.alert_level >= AlertLevel::kCritical) return CheckStatus::kCritical;
  if (entry.quota && !entry.unlimited) {
    if (entry.quota->remaining <= 0) return CheckStatus::kCritical;
    if (entry.quota->limit > 0) {
      ratio = static_cast<double>(entry.quota->remaining) / static_cast<double>(entry.quota->limit);
      if (*ratio <= thresholds.critical_ratio) return CheckStatus::kCritical;
    }
  }
  if (!entry.outcome || !isSuccess(*entry.outcome)) return CheckStatus::kUnknown;
  if (ratio && *ratio <= thresholds.warning_ratio) return CheckStatus::kWarning;
  if (entry.alert_level == AlertLevel::kWarning) return CheckStatus::kWarning;
  return CheckStatus::kOk;
}

CheckStatus overallStatus(const std::vector<StatusEntry>& entries, const Thresholds& thresholds) {
  CheckStatus worst = CheckStatus::kOk;
  for (const StatusEntry& entry : entries) {
    const CheckStatus status = entryStatus(entry, thresholds);
    if (severity(status) > severity(worst)) worst = status;
  }
  return worst;
}

nlohmann::ordered_json optionalNumber(const std::optional<double>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json forecastJson(const Forecast& f, const Thresholds& thresholds,
                                    const ForecastConfig& config) {
  nlohmann::ordered_json item;
  nlohmann::ordered_json rates;
  rates[compactDuration(config.short_lookback_seconds)] = f.short_rate;
  rates[compactDuration(config.long_lookback_seconds)] = f.long_rate;
  item["consumption_rate"] = std::move(rates);
  item["exhaustion_seconds"] = optionalNumber(f.exhaustion_seconds);
  item["critical_seconds"] = optionalNumber(f.critical_seconds);
  item["next_refill_seconds"] = optionalNumber(f.next_refill_seconds);
  item["expected_remaining"] = optionalNumber(f.expected_remaining);
  item["horizon_seconds"] = thresholds.forecast_horizon_seconds;
  item["history_points"] = f.history_points;
  item["summary"] = describeForecast(f.exhaustion_seconds, f.short_rate);
  return item;
}

std::string renderStatusJson(const std::vector<StatusEntry>& entries, const Thresholds& thresholds,
                             const ForecastConfig& forecast) {
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const StatusEntry& entry : entries) {
    nlohmann::ordered_json item;
    item["identity"] = entry.identity;
    item["family"] = familyName(entry.family);
    item["outcome"] = entry.outcome ? nlohmann::ordered_json(outcomeName(*entry.outcome)) : nullptr;
    item["source"] = entry.source.empty() ? nlohmann::ordered_json(nullptr)
                                          : nlohmann::ordered_json(entry.source);
    const bool known = entry.quota && !entry.unlimited;
    item["limit"] = known ? nlohmann::ordered_json(entry.quota->limit) : nullptr;
    item["remaining"] = known ? nlohmann::ordered_json(entry.quota->remaining) : nullptr;
    item["window_seconds"] = known && entry.quota->window_seconds
                                 ? nlohmann::ordered_json(*entry.quota->window_seconds)
                                 : nullptr;
    item["duration_seconds"] = roundMillis(entry.duration_seconds);
    item["error"] =
        entry.error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(entry.error);
    item["unlimited"] = entry.unlimited;
    item["status"] = statusName(entryStatus(entry, thresholds));
    item["observed_at"] =
        entry.observed_at ? nlohmann::ordered_json(rfc3339(*entry.observed_at)) : nullptr;
    item["alert_level"] = alertLevelName(entry.alert_level);
    item["forecast"] = entry.forecast && !entry.unlimited
                           ? forecastJson(*entry.forecast, thresholds, forecast)
                           : nlohmann::ordered_json(nullptr);
    results.push_back(std::move(item));
  }
  nlohmann::ordered_json document;
  document["status"] = statusName(overallStatus(entries, thresholds));
  document["results"] = std::move(results);
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string renderStatusText(const std::vector<StatusEntry>& entries,
                             const Thresholds& thresholds) {
  std::vector<std::vector<std::string>> rows = {{"IDENTITY", "FAMILY", "STATUS", "OUTCOME",
                                                 "REMAINING", "WINDOW", "SOURCE", "TIME",
                                                 "FORECAST"}};
  for (const StatusEntry& entry : entries) {
    char time[32];
    std::snprintf(time, sizeof time, "%.0fms", entry.duration_seconds * 1000.0);
    rows.push_back(
        {entry.identity, std::string(familyName(entry.family)),
         std::string(statusName(entryStatus(entry, thresholds))),
         entry.outcome ? std::string(outcomeName(*entry.outcome)) : "pending", remainingCell(entry),
         entry.quota && entry.quota->window_seconds ? compactDuration(*entry.quota->window_seconds)
                                                    : "-",
         entry.source.empty() ? "-" : entry.source, time, forecastCell(entry)});
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out =
      "pullguard: " + std::string(statusName(overallStatus(entries, thresholds))) + "\n\n";
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  bool first_error = true;
  for (const StatusEntry& entry : entries) {
    if (entry.error.empty()) continue;
    if (first_error) out += "\n";
    first_error = false;
    out += entry.identity + "/" + std::string(familyName(entry.family)) + ": " + entry.error + "\n";
  }
  return out;
}

}  // namespace pullguard
