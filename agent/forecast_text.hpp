// The forecast in words for people: "empty in ~40 min at 1.8 pulls/min". Used by `check`, the
// status text, alert reasons and Slack messages. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace pullguard {

// "15m", "1h", "90s": exact, in Prometheus' duration notation (lookback labels, windows).
std::string compactDuration(std::int64_t seconds);

// "~45 s", "~40 min", "~2.5 h", "~3 days".
std::string approximateDuration(double seconds);

// "1.8 pulls/min", "12 pulls/min", "0.5 pulls/h".
std::string pullRate(double pulls_per_second);

// "empty in ~40 min at 1.8 pulls/min"; "steady at 1.8 pulls/min" when the rate never empties
// the bucket; "no pulls seen" when the rate is zero.
std::string describeForecast(std::optional<double> exhaustion_seconds, double pulls_per_second);

}  // namespace pullguard
