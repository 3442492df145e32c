#include "forecast_text.hpp"

#include <cmath>
#include <cstdio>

namespace pullguard {
namespace {

std::string oneDecimal(double value) {
  char buffer[32];
  if (value >= 10 || std::fabs(value - std::round(value)) < 0.05) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f", value);
  }
  return buffer;
}

}  // namespace

std::string compactDuration(std::int64_t seconds) {
  if (seconds > 0 && seconds % 3600 == 0) return std::to_string(seconds / 3600) + "h";
  if (seconds > 0 && seconds % 60 == 0) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds) + "s";
}

std::string approximateDuration(double seconds) {
  if (seconds < 90) return "~" + oneDecimal(std::max(0.0, std::round(seconds))) + " s";
  if (seconds < 90 * 60) return "~" + oneDecimal(std::round(seconds / 60)) + " min";
  if (seconds < 48 * 3600) return "~" + oneDecimal(seconds / 3600) + " h";
  return "~" + oneDecimal(std::round(seconds / 86400)) + " days";
}

std::string pullRate(double pulls_per_second) {
  const double per_minute = pulls_per_second * 60;
  const bool per_hour = per_minute < 0.1;
  const std::string count = oneDecimal(per_hour ? pulls_per_second * 3600 : per_minute);
  return count + (count == "1" ? " pull" : " pulls") + (per_hour ? "/h" : "/min");
}

std::string describeForecast(std::optional<double> exhaustion_seconds, double pulls_per_second) {
  if (pulls_per_second <= 0) return "no pulls seen";
  if (!exhaustion_seconds) return "steady at " + pullRate(pulls_per_second);
  if (*exhaustion_seconds <= 0) return "empty now at " + pullRate(pulls_per_second);
  return "empty in " + approximateDuration(*exhaustion_seconds) + " at " +
         pullRate(pulls_per_second);
}

}  // namespace pullguard
