// The budget model of one bucket: from the remaining counts it has seen, the pulls it infers
// (and when each returns, the window being a sliding one), the consumption rate and the
// forecast of when the bucket runs dry. Pure: time comes in with each observation.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "observation.hpp"

namespace pullguard {

struct ForecastSettings {
  std::chrono::seconds short_lookback{900};  // its rate drives the forecast
  std::chrono::seconds long_lookback{3600};
  std::chrono::seconds horizon{3600};   // for expected_remaining
  std::int64_t critical_remaining = 0;  // the count critical_seconds counts down to
};

struct Forecast {
  double short_rate = 0;  // pulls per second over the short lookback
  double long_rate = 0;
  // At the short rate, counting the pulls that come back as the window slides; empty when the
  // rate is zero or the bucket never gets there (the refills outpace the rate).
  std::optional<double> exhaustion_seconds;
  std::optional<double> critical_seconds;
  // Until the oldest pull still counted comes back; empty when none is counted or the window
  // is unknown.
  std::optional<double> next_refill_seconds;
  std::optional<double> expected_remaining;  // at now + horizon
  std::size_t history_points = 0;
};

class BudgetModel {
 public:
  enum class Applied {
    kAccepted,
    kReset,      // the first reading, or limit/window changed, or the clock went back
    kHeld,       // a "full" reading the model cannot explain, kept until the next one confirms it
    kDiscarded,  // a held "full" reading that the next one contradicted (Docker Hub noise)
  };

  // The observations are expected in time order (a step back of a few minutes counts as
  // none); see Applied for what else can happen. Counts above a billion are capped, remaining
  // above the limit is the limit, and a window above a year is unknown.
  Applied observe(const Observation& observation);

  // Rebuilds the model by replaying a stored history (oldest first).
  void restore(const std::vector<Observation>& observations);

  Forecast forecast(std::chrono::system_clock::time_point now,
                    const ForecastSettings& settings) const;

  // The accepted observations within max(window, keep), oldest first, a run of equal readings
  // kept as its first and last: what is worth storing.
  std::vector<Observation> history() const;
  std::optional<Observation> latest() const;

  // Observations older than this are dropped (the long lookback, if above the window).
  void setMinimumKeep(std::chrono::seconds keep) { minimum_keep_ = keep; }

 private:
  struct Pulls {
    std::chrono::system_clock::time_point at;
    std::int64_t count = 0;
  };

  void reset(const Observation& first);
  void accept(const Observation& observation);
  std::int64_t takeRefillsUpTo(std::chrono::system_clock::time_point until);
  void forgetReturned(std::int64_t extra_refill);
  void prune(std::chrono::system_clock::time_point now);
  bool fullIsExplained(const Observation& full) const;
  double rateOver(std::chrono::seconds lookback, std::chrono::system_clock::time_point now) const;
  std::vector<Pulls> refillSteps() const;
  double secondsUntil(double threshold, double rate, std::chrono::system_clock::time_point now,
                      bool& reached) const;
  std::chrono::seconds window() const;

  std::deque<Observation> history_;  // accepted, oldest first
  std::optional<Observation> held_full_;
  // Pulls inferred and not yet returned, oldest first (they return at `at + window`).
  std::deque<Pulls> outstanding_;
  // Pulls inferred within the long lookback, for the rates.
  std::deque<Pulls> recent_;
  // Pulls already counted at the first reading: when they happened is unknown, so they are
  // assumed to return at the latest possible moment, first reading + window.
  std::int64_t unattributed_ = 0;
  std::chrono::system_clock::time_point unattributed_until_;
  std::chrono::seconds minimum_keep_{3600};
};

}  // namespace pullguard
