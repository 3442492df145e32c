#include "alert_policy.hpp"

#include <gtest/gtest.h>

#include "forecast_text.hpp"

namespace pullguard {
namespace {

LevelInputs reading(std::int64_t remaining, std::optional<double> exhaustion = std::nullopt) {
  return {remaining, 100, false, false, exhaustion};
}

// Defaults: warning at 20 % of the limit, critical at 5 %, horizon 1 h, hysteresis 5 %.
const Thresholds kDefaults;

TEST(AlertPolicy, LevelsFromTheCount) {
  EXPECT_EQ(evaluateAlertLevel(reading(100), kDefaults, AlertLevel::kOk), AlertLevel::kOk);
  EXPECT_EQ(evaluateAlertLevel(reading(21), kDefaults, AlertLevel::kOk), AlertLevel::kOk);
  EXPECT_EQ(evaluateAlertLevel(reading(20), kDefaults, AlertLevel::kOk), AlertLevel::kWarning);
  EXPECT_EQ(evaluateAlertLevel(reading(5), kDefaults, AlertLevel::kOk), AlertLevel::kCritical);
  EXPECT_EQ(evaluateAlertLevel(reading(0), kDefaults, AlertLevel::kOk), AlertLevel::kExhausted);
}

TEST(AlertPolicy, ACountThresholdAppliesBesideTheRatio) {
  Thresholds thresholds;
  thresholds.warning_remaining = 50;
  thresholds.critical_remaining = 2;  // below 5 % of 100: the ratio wins
  EXPECT_EQ(evaluateAlertLevel(reading(50), thresholds, AlertLevel::kOk), AlertLevel::kWarning);
  EXPECT_EQ(evaluateAlertLevel(reading(5), thresholds, AlertLevel::kOk), AlertLevel::kCritical);
  EXPECT_DOUBLE_EQ(warningCount(thresholds, 100), 50);
  EXPECT_DOUBLE_EQ(criticalCount(thresholds, 100), 5);
}

TEST(AlertPolicy, AForecastWithinTheHorizonWarnsWhileTheCountIsHigh) {
  EXPECT_EQ(evaluateAlertLevel(reading(80, 3600), kDefaults, AlertLevel::kOk),
            AlertLevel::kWarning);
  EXPECT_EQ(evaluateAlertLevel(reading(80, 3601), kDefaults, AlertLevel::kOk), AlertLevel::kOk);
  Thresholds off;
  off.forecast_horizon_seconds = 0;
  EXPECT_EQ(evaluateAlertLevel(reading(80, 60), off, AlertLevel::kOk), AlertLevel::kOk);
}

TEST(AlertPolicy, A429IsExhaustedAndUnlimitedOrUnknownIsOk) {
  LevelInputs limited = reading(30);
  limited.rate_limited = true;
  EXPECT_EQ(evaluateAlertLevel(limited, kDefaults, AlertLevel::kOk), AlertLevel::kExhausted);
  LevelInputs unlimited{std::nullopt, 0, true, false, std::nullopt};
  EXPECT_EQ(evaluateAlertLevel(unlimited, kDefaults, AlertLevel::kWarning), AlertLevel::kOk);
  EXPECT_EQ(evaluateAlertLevel(LevelInputs{}, kDefaults, AlertLevel::kOk), AlertLevel::kOk);
}

TEST(AlertPolicy, ACountDancingOnTheThresholdDoesNotFlap) {
  AlertLevel level = AlertLevel::kOk;
  int changes = 0;
  for (std::int64_t remaining : {21, 20, 21, 22, 19, 21, 24, 25, 21}) {
    const AlertLevel next = evaluateAlertLevel(reading(remaining), kDefaults, level);
    changes += next != level;
    level = next;
  }
  EXPECT_EQ(changes, 1);  // ok -> warning once; never back below 26 (20 + 5 % of 100)
  EXPECT_EQ(level, AlertLevel::kWarning);
  EXPECT_EQ(evaluateAlertLevel(reading(26), kDefaults, level), AlertLevel::kOk);
}

TEST(AlertPolicy, AFallStopsAtTheLevelTheCountHasCleared) {
  EXPECT_EQ(evaluateAlertLevel(reading(8), kDefaults, AlertLevel::kCritical),
            AlertLevel::kCritical);  // within 5 of the critical count
  EXPECT_EQ(evaluateAlertLevel(reading(11), kDefaults, AlertLevel::kCritical),
            AlertLevel::kWarning);
  EXPECT_EQ(evaluateAlertLevel(reading(3), kDefaults, AlertLevel::kExhausted),
            AlertLevel::kExhausted);
  EXPECT_EQ(evaluateAlertLevel(reading(6), kDefaults, AlertLevel::kExhausted),
            AlertLevel::kCritical);
}

TEST(AlertPolicy, AForecastWarningClearsOnlyAQuarterBeyondTheHorizon) {
  EXPECT_EQ(evaluateAlertLevel(reading(80, 4000), kDefaults, AlertLevel::kWarning),
            AlertLevel::kWarning);
  EXPECT_EQ(evaluateAlertLevel(reading(80, 4501), kDefaults, AlertLevel::kWarning),
            AlertLevel::kOk);
  EXPECT_EQ(evaluateAlertLevel(reading(80), kDefaults, AlertLevel::kWarning), AlertLevel::kOk);
}

TEST(AlertPolicy, TransitionKinds) {
  EXPECT_EQ(transitionKind(AlertLevel::kOk, AlertLevel::kOk), std::nullopt);
  EXPECT_EQ(transitionKind(AlertLevel::kOk, AlertLevel::kWarning), AlertEventKind::kFiring);
  EXPECT_EQ(transitionKind(AlertLevel::kCritical, AlertLevel::kWarning), AlertEventKind::kFiring);
  EXPECT_EQ(transitionKind(AlertLevel::kExhausted, AlertLevel::kOk), AlertEventKind::kResolved);
}

TEST(ForecastText, DescribesTheForecastForPeople) {
  EXPECT_EQ(describeForecast(2400, 1.8 / 60), "empty in ~40 min at 1.8 pulls/min");
  EXPECT_EQ(describeForecast(std::nullopt, 0.5), "steady at 30 pulls/min");
  EXPECT_EQ(describeForecast(std::nullopt, 0), "no pulls seen");
  EXPECT_EQ(describeForecast(0, 1.0 / 60), "empty now at 1 pull/min");
  EXPECT_EQ(approximateDuration(45), "~45 s");
  EXPECT_EQ(approximateDuration(9000), "~2.5 h");
  EXPECT_EQ(approximateDuration(3 * 86400), "~3 days");
  EXPECT_EQ(pullRate(2.0 / 3600), "2 pulls/h");
}

}  // namespace
}  // namespace pullguard

namespace pullguard {
namespace {

TEST(AlertPolicy, AHighThresholdWithHysteresisStillClearsWhenFull) {
  Thresholds thresholds;
  thresholds.warning_ratio = 0.96;
  EXPECT_EQ(evaluateAlertLevel(reading(96), thresholds, AlertLevel::kOk), AlertLevel::kWarning);
  EXPECT_EQ(evaluateAlertLevel(reading(100), thresholds, AlertLevel::kWarning), AlertLevel::kOk);
}

TEST(AlertPolicy, ACriticalCountAboveTheWarningOneStillWarnsFirst) {
  Thresholds thresholds;  // warning at 20 % of 100
  thresholds.critical_remaining = 30;
  EXPECT_EQ(evaluateAlertLevel(reading(30), thresholds, AlertLevel::kOk), AlertLevel::kCritical);
  EXPECT_EQ(evaluateAlertLevel(reading(31), thresholds, AlertLevel::kOk), AlertLevel::kOk);
}

TEST(AlertPolicy, NothingLeftIsExhaustedEvenWithALimitOfZero) {
  EXPECT_EQ(
      evaluateAlertLevel(LevelInputs{0, 0, false, false, std::nullopt}, kDefaults, AlertLevel::kOk),
      AlertLevel::kExhausted);
}

}  // namespace
}  // namespace pullguard
