#include "budget_model.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace pullguard {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

const system_clock::time_point kStart = system_clock::from_time_t(1'800'000'000);

system_clock::time_point at(double s) {
  return kStart +
         std::chrono::duration_cast<system_clock::duration>(std::chrono::duration<double>(s));
}

Observation reading(double s, std::int64_t remaining, std::int64_t limit = 100,
                    std::int64_t window = 21600) {
  return {at(s), remaining, limit, window};
}

ForecastSettings settings(std::int64_t critical = 5) {
  ForecastSettings result;
  result.critical_remaining = critical;
  return result;
}

// One pull a minute for 20 minutes, probed every minute.
BudgetModel steadyDrain() {
  BudgetModel model;
  for (int minute = 0; minute <= 20; ++minute) model.observe(reading(minute * 60.0, 100 - minute));
  return model;
}

TEST(BudgetModel, SteadyDrainGivesTheRateAndWhenTheBucketEmpties) {
  const BudgetModel model = steadyDrain();
  const Forecast f = model.forecast(at(1200), settings());
  EXPECT_NEAR(f.short_rate, 1.0 / 60, 1e-9);  // 15 pulls in the last 15 minutes
  // Watched 20 minutes, less than the hour: 20 pulls over 20 minutes.
  EXPECT_NEAR(f.long_rate, 1.0 / 60, 1e-9);
  ASSERT_TRUE(f.exhaustion_seconds);
  EXPECT_NEAR(*f.exhaustion_seconds, 80 * 60, 1e-6);  // 80 left, no pull returns in time
  ASSERT_TRUE(f.critical_seconds);
  EXPECT_NEAR(*f.critical_seconds, 75 * 60, 1e-6);
  ASSERT_TRUE(f.next_refill_seconds);  // the first pull (at 30 s) returns 6 h later
  EXPECT_NEAR(*f.next_refill_seconds, 21600 + 30 - 1200, 1e-6);
  ASSERT_TRUE(f.expected_remaining);
  EXPECT_NEAR(*f.expected_remaining, 20, 1e-6);  // 80 - 60 in the next hour
  EXPECT_EQ(f.history_points, 21u);
}

TEST(BudgetModel, ForecastCountsDownFromTheLastReading) {
  const BudgetModel model = steadyDrain();
  // Ten minutes without a reading: the rate counts only the pulls still in the lookback, and
  // the time already gone is taken off.
  const Forecast f = model.forecast(at(1200 + 600), settings());
  ASSERT_TRUE(f.exhaustion_seconds);
  EXPECT_NEAR(f.short_rate, 5.0 / 900, 1e-9);  // pulls at 930 .. 1170 s
  EXPECT_NEAR(*f.exhaustion_seconds, 80 / f.short_rate - 600, 1e-6);
}

TEST(BudgetModel, BurstThenQuietHasNoShortRateAndNoExhaustion) {
  BudgetModel model;
  model.observe(reading(0, 100));
  model.observe(reading(60, 70));  // a deploy pulls 30 images
  for (int minute = 2; minute <= 21; ++minute) model.observe(reading(minute * 60.0, 70));
  const Forecast f = model.forecast(at(21 * 60), settings());
  EXPECT_EQ(f.short_rate, 0);
  EXPECT_NEAR(f.long_rate, 30.0 / (21 * 60), 1e-9);
  EXPECT_FALSE(f.exhaustion_seconds);
  EXPECT_FALSE(f.critical_seconds);
  EXPECT_NEAR(*f.expected_remaining, 70, 1e-9);
}

TEST(BudgetModel, PullsComeBackAfterTheWindowWithoutCountingAsConsumption) {
  BudgetModel model;
  model.observe(reading(0, 100, 100, 600));
  model.observe(reading(60, 90, 100, 600));  // 10 pulls around t=30, back at t=630
  for (int s = 120; s <= 600; s += 60) model.observe(reading(s, 90, 100, 600));
  Forecast f = model.forecast(at(600), settings());
  ASSERT_TRUE(f.next_refill_seconds);
  EXPECT_NEAR(*f.next_refill_seconds, 30, 1e-6);
  model.observe(reading(660, 100, 100, 600));
  f = model.forecast(at(660), settings());
  EXPECT_FALSE(f.next_refill_seconds);          // nothing counted any more
  EXPECT_NEAR(f.short_rate, 10.0 / 660, 1e-9);  // the refill added no pulls
}

TEST(BudgetModel, RefillsOutpacingTheRateMeanTheBucketNeverEmpties) {
  // One pull every 10 s with a 600 s window uses 60 of 100: the count settles at 40.
  BudgetModel model;
  int remaining = 100;
  for (int s = 0; s <= 900; s += 10) {
    if (s > 0 && s <= 600) --remaining;  // before the first pulls return
    model.observe(reading(s, remaining, 100, 600));
  }
  const Forecast f = model.forecast(at(900), settings());
  EXPECT_NEAR(f.short_rate, 0.1, 0.01);
  EXPECT_FALSE(f.exhaustion_seconds);
  EXPECT_NEAR(*f.expected_remaining, 40, 1.5);
}

TEST(BudgetModel, AWindowOrLimitChangeStartsAfresh) {
  BudgetModel model = steadyDrain();
  EXPECT_EQ(model.observe(reading(1260, 79, 100, 3600)), BudgetModel::Applied::kReset);
  Forecast f = model.forecast(at(1260), settings());
  EXPECT_EQ(f.history_points, 1u);
  EXPECT_EQ(f.short_rate, 0);
  EXPECT_EQ(model.observe(reading(1320, 190, 200, 3600)), BudgetModel::Applied::kReset);
}

TEST(BudgetModel, TheClockGoingBackStartsAfresh) {
  BudgetModel model = steadyDrain();
  EXPECT_EQ(model.observe(reading(100, 79)), BudgetModel::Applied::kReset);
  EXPECT_EQ(model.forecast(at(100), settings()).history_points, 1u);
}

TEST(BudgetModel, RestoringTheHistoryAfterARestartGivesTheSameForecast) {
  const BudgetModel before = steadyDrain();
  BudgetModel after;
  after.restore(before.history());
  const Forecast a = before.forecast(at(1300), settings());
  const Forecast b = after.forecast(at(1300), settings());
  EXPECT_EQ(a.short_rate, b.short_rate);
  EXPECT_EQ(a.long_rate, b.long_rate);
  EXPECT_EQ(a.exhaustion_seconds, b.exhaustion_seconds);
  EXPECT_EQ(a.next_refill_seconds, b.next_refill_seconds);
  EXPECT_EQ(a.expected_remaining, b.expected_remaining);
}

TEST(BudgetModel, StartingMidWindowAssumesEarlierPullsReturnAtTheLatest) {
  BudgetModel model;
  model.observe(reading(0, 40, 100, 600));  // 60 used before pullguard started
  Forecast f = model.forecast(at(0), settings());
  ASSERT_TRUE(f.next_refill_seconds);
  EXPECT_NEAR(*f.next_refill_seconds, 600, 1e-6);
  model.observe(reading(60, 50, 100, 600));  // 10 of them came back early: not consumption
  f = model.forecast(at(60), settings());
  EXPECT_EQ(f.short_rate, 0);
  model.observe(reading(620, 100, 100, 600));  // the rest are back by the window's end
  f = model.forecast(at(620), settings());
  EXPECT_EQ(f.short_rate, 0);
  EXPECT_FALSE(f.next_refill_seconds);
}

TEST(BudgetModel, OneFalseFullReadingDoesNotResetTheForecast) {
  BudgetModel model = steadyDrain();  // 80 left at 1200 s
  const Forecast before = model.forecast(at(1260), settings());
  EXPECT_EQ(model.observe(reading(1260, 100)), BudgetModel::Applied::kHeld);
  EXPECT_EQ(model.latest()->remaining, 80);
  EXPECT_EQ(model.observe(reading(1320, 79)), BudgetModel::Applied::kDiscarded);
  const Forecast after = model.forecast(at(1320), settings());
  EXPECT_NEAR(after.short_rate, before.short_rate, 1.0 / 900);
  EXPECT_EQ(model.latest()->remaining, 79);
  EXPECT_EQ(after.history_points, 22u);  // the held reading is not part of the history
  ASSERT_TRUE(after.exhaustion_seconds);
  EXPECT_NEAR(*after.exhaustion_seconds, 79 / after.short_rate, 1e-6);
}

TEST(BudgetModel, AFullReadingThatTheNextConfirmsIsAccepted) {
  BudgetModel model = steadyDrain();
  EXPECT_EQ(model.observe(reading(1260, 100)), BudgetModel::Applied::kHeld);
  EXPECT_EQ(model.observe(reading(1320, 99)), BudgetModel::Applied::kAccepted);
  EXPECT_EQ(model.latest()->remaining, 99);
  EXPECT_EQ(model.history().size(), 23u);
}

TEST(BudgetModel, AFullReadingAfterEverythingReturnedIsAcceptedAtOnce) {
  BudgetModel model;
  model.observe(reading(0, 100, 100, 600));
  model.observe(reading(60, 95, 100, 600));
  EXPECT_EQ(model.observe(reading(700, 100, 100, 600)), BudgetModel::Applied::kAccepted);
}

TEST(BudgetModel, AnUnknownWindowForecastsWithoutRefills) {
  BudgetModel model;
  for (int minute = 0; minute <= 20; ++minute) {
    model.observe(reading(minute * 60.0, 100 - minute, 100, 0));
  }
  const Forecast f = model.forecast(at(1200), settings());
  EXPECT_FALSE(f.next_refill_seconds);
  ASSERT_TRUE(f.exhaustion_seconds);
  EXPECT_NEAR(*f.exhaustion_seconds, 80 * 60, 1e-6);
}

TEST(BudgetModel, APullSecondsAfterStartIsNotAFlood) {
  BudgetModel model;
  model.observe(reading(0, 100));
  model.observe(reading(10, 99));
  // Divided by a quarter of the 15-minute lookback, not by the 10 s watched.
  EXPECT_NEAR(model.forecast(at(10), settings()).short_rate, 1.0 / 225, 1e-12);
}

TEST(BudgetModel, HistoryKeepsAWindowAndNoMore) {
  BudgetModel model;
  model.setMinimumKeep(seconds(60));
  for (int s = 0; s <= 1200; s += 60) model.observe(reading(s, 100 - s / 60, 100, 600));
  const auto history = model.history();
  ASSERT_FALSE(history.empty());
  EXPECT_EQ(history.front().at, at(600));
  EXPECT_EQ(history.back().at, at(1200));
}

TEST(BudgetModel, EmptyModelForecastsNothing) {
  const BudgetModel model;
  const Forecast f = model.forecast(at(0), settings());
  EXPECT_EQ(f.history_points, 0u);
  EXPECT_FALSE(f.exhaustion_seconds);
  EXPECT_FALSE(f.expected_remaining);
  EXPECT_FALSE(model.latest());
}

}  // namespace
}  // namespace pullguard

namespace pullguard {
namespace {

TEST(BudgetModel, AClockStepBackOfSecondsIsNotAReset) {
  BudgetModel model = steadyDrain();
  EXPECT_EQ(model.observe(reading(1195, 79)), BudgetModel::Applied::kAccepted);
  EXPECT_EQ(model.forecast(at(1200), settings()).history_points, 22u);
}

TEST(BudgetModel, AbsurdNumbersAreCappedInsteadOfOverflowing) {
  BudgetModel model;
  const std::int64_t huge = std::numeric_limits<std::int64_t>::max();
  model.observe({at(0), huge, huge, huge});
  model.observe({at(60), huge - 1, huge, huge});
  const Forecast f = model.forecast(at(60), settings());
  EXPECT_EQ(model.latest()->limit, 1'000'000'000);
  EXPECT_EQ(model.latest()->window_seconds, 0);  // a window of 290 billion years is unknown
  EXPECT_FALSE(f.next_refill_seconds);
  model.observe({at(120), 150, 100, 600});  // more left than the limit: the limit
  EXPECT_EQ(model.latest()->remaining, 100);
}

TEST(BudgetModel, ExpectedRemainingStopsAtZeroThenCountsReturningPulls) {
  // 30 pulls in the first minute of a 10-minute window, then 60 more over the next minute:
  // 10 left, emptied within seconds at this rate, and the first 30 back at ~10.5 minutes.
  BudgetModel model;
  model.observe(reading(0, 100, 100, 600));
  model.observe(reading(60, 70, 100, 600));
  model.observe(reading(120, 10, 100, 600));
  ForecastSettings s = settings();
  s.horizon = std::chrono::seconds(600);
  const Forecast f = model.forecast(at(120), s);
  ASSERT_TRUE(f.expected_remaining);
  EXPECT_GE(*f.expected_remaining, 30);  // not 10 + 30 + 60 - rate x 600 (negative, so 0)
}

}  // namespace
}  // namespace pullguard

namespace pullguard {
namespace {

TEST(BudgetModel, AnIdleBucketKeepsTwoPointsNotAWindowOfThem) {
  BudgetModel model;
  for (int minute = 0; minute <= 300; ++minute) model.observe(reading(minute * 60.0, 70));
  const auto history = model.history();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history.front().at, at(0));
  EXPECT_EQ(history.back().at, at(300 * 60));
  model.observe(reading(301 * 60.0, 69));  // a pull: the run ends, the new reading is kept
  EXPECT_EQ(model.history().size(), 3u);
  // The time watched still counts from the first reading.
  EXPECT_NEAR(model.forecast(at(301 * 60), settings()).long_rate, 1.0 / 3600, 1e-9);
}

}  // namespace
}  // namespace pullguard
