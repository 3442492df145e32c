#include "budget_model.hpp"

#include <algorithm>

namespace pullguard {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

// Registries send whatever they like: beyond these, a count or window is not a budget this
// model can reason about, and the time arithmetic would overflow.
constexpr std::int64_t kMaxCount = 1'000'000'000;
constexpr std::int64_t kMaxWindowSeconds = 366LL * 86400;
// A wall clock stepped back by this much (NTP) is taken as no step; more starts afresh.
constexpr auto kClockJitter = std::chrono::minutes(5);

// Six hours at the 10 s minimum interval is 2,160 readings; this bounds a bucket's memory even
// when the window is days long.
constexpr std::size_t kMaxHistory = 10'000;

double secondsBetween(TimePoint from, TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

TimePoint plusSeconds(TimePoint t, double seconds) {
  seconds = std::clamp(seconds, -1e9, 1e9);  // ~30 years: far enough, and no overflow
  return t + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                 std::chrono::duration<double>(seconds));
}

Observation sanitized(Observation observation) {
  observation.limit = std::clamp<std::int64_t>(observation.limit, 0, kMaxCount);
  observation.remaining = std::clamp<std::int64_t>(observation.remaining, 0, observation.limit);
  if (observation.window_seconds < 0 || observation.window_seconds > kMaxWindowSeconds) {
    observation.window_seconds = 0;  // unknown
  }
  return observation;
}

}  // namespace

std::chrono::seconds BudgetModel::window() const {
  return history_.empty() ? std::chrono::seconds(0)
                          : std::chrono::seconds(history_.back().window_seconds);
}

BudgetModel::Applied BudgetModel::observe(const Observation& raw) {
  Observation observation = sanitized(raw);
  if (!history_.empty() && observation.at < history_.back().at &&
      observation.at >= history_.back().at - kClockJitter) {
    observation.at = history_.back().at;
  }
  if (history_.empty() || observation.at < history_.back().at ||
      observation.limit != history_.back().limit ||
      observation.window_seconds != history_.back().window_seconds) {
    reset(observation);
    return Applied::kReset;
  }
  const Observation& last = history_.back();
  if (held_full_) {
    const Observation held = *held_full_;
    held_full_.reset();
    // A real refill stays near the top; Docker Hub's stray "full" is followed by a reading near
    // the one before it.
    if (2 * observation.remaining > last.remaining + observation.limit) {
      accept(held);
      accept(observation);
      return Applied::kAccepted;
    }
    accept(observation);
    return Applied::kDiscarded;
  }
  if (observation.remaining == observation.limit && last.remaining < observation.limit &&
      !fullIsExplained(observation)) {
    held_full_ = observation;
    return Applied::kHeld;
  }
  accept(observation);
  return Applied::kAccepted;
}

void BudgetModel::restore(const std::vector<Observation>& observations) {
  history_.clear();
  outstanding_.clear();
  recent_.clear();
  held_full_.reset();
  unattributed_ = 0;
  for (const Observation& observation : observations) observe(observation);
}

void BudgetModel::reset(const Observation& first) {
  history_.clear();
  outstanding_.clear();
  recent_.clear();
  held_full_.reset();
  history_.push_back(first);
  unattributed_ = std::max<std::int64_t>(0, first.limit - first.remaining);
  unattributed_until_ = first.at + std::chrono::seconds(first.window_seconds);
}

// The pulls between two readings are what the count fell by plus what came back meanwhile.
void BudgetModel::accept(const Observation& observation) {
  const Observation last = history_.back();
  const std::int64_t refilled = takeRefillsUpTo(observation.at);
  const std::int64_t pulls = last.remaining + refilled - observation.remaining;
  if (pulls > 0) {
    // Somewhere between the two readings: the midpoint is the unbiased guess.
    const TimePoint at = last.at + (observation.at - last.at) / 2;
    if (window().count() > 0) outstanding_.push_back({at, pulls});
    recent_.push_back({at, pulls});
  } else if (pulls < 0) {
    forgetReturned(-pulls);
  }
  // A bucket nobody pulls from reads the same count probe after probe: a run of equal
  // readings is kept as its first and its last, so an idle bucket's history (and the state
  // file) stays two points long instead of a window's worth.
  const std::size_t n = history_.size();
  if (refilled == 0 && pulls == 0 && n >= 2 && history_[n - 2].remaining == last.remaining) {
    history_.back().at = observation.at;
  } else {
    history_.push_back(observation);
  }
  prune(observation.at);
}

std::int64_t BudgetModel::takeRefillsUpTo(TimePoint until) {
  std::int64_t refilled = 0;
  const auto window_length = window();
  while (!outstanding_.empty() && outstanding_.front().at + window_length <= until) {
    refilled += outstanding_.front().count;
    outstanding_.pop_front();
  }
  if (unattributed_ > 0 && window_length.count() > 0 && until >= unattributed_until_) {
    refilled += unattributed_;
    unattributed_ = 0;
  }
  return refilled;
}

// More came back than the model expected: the pulls of unknown time went first, else the
// model's oldest pulls were fewer or earlier than it thought.
void BudgetModel::forgetReturned(std::int64_t extra_refill) {
  const std::int64_t from_unattributed = std::min(unattributed_, extra_refill);
  unattributed_ -= from_unattributed;
  extra_refill -= from_unattributed;
  while (extra_refill > 0 && !outstanding_.empty()) {
    const std::int64_t taken = std::min(outstanding_.front().count, extra_refill);
    outstanding_.front().count -= taken;
    extra_refill -= taken;
    if (outstanding_.front().count == 0) outstanding_.pop_front();
  }
}

void BudgetModel::prune(TimePoint now) {
  const auto keep = std::max(window(), minimum_keep_);
  while (history_.size() > 1 &&
         (history_.front().at < now - keep || history_.size() > kMaxHistory)) {
    history_.pop_front();
  }
  while (!recent_.empty() && recent_.front().at < now - minimum_keep_) recent_.pop_front();
}

// A full reading is plausible when everything counted could have come back by then.
bool BudgetModel::fullIsExplained(const Observation& full) const {
  if (window().count() == 0) return true;  // nothing to judge it by
  std::int64_t could_return = unattributed_;
  for (const Pulls& pulls : outstanding_) {
    if (pulls.at + window() <= full.at) could_return += pulls.count;
  }
  return history_.back().remaining + could_return >= full.limit;
}

// Pulls in the lookback over the lookback; while the model has watched for less than that,
// over the time watched, but never less than a quarter of the lookback, so that one pull
// seconds after start does not read as a flood.
double BudgetModel::rateOver(std::chrono::seconds lookback, TimePoint now) const {
  if (history_.empty() || lookback.count() <= 0) return 0;
  const TimePoint from = now - lookback;
  std::int64_t pulls = 0;
  for (const Pulls& p : recent_) {
    if (p.at > from && p.at <= now) pulls += p.count;
  }
  if (pulls == 0) return 0;
  const double lookback_seconds = static_cast<double>(lookback.count());
  const double watched = secondsBetween(history_.front().at, now);
  const double span = std::clamp(watched, lookback_seconds / 4, lookback_seconds);
  return static_cast<double>(pulls) / span;
}

// When counted pulls come back, in time order.
std::vector<BudgetModel::Pulls> BudgetModel::refillSteps() const {
  std::vector<Pulls> steps;
  if (window().count() == 0) return steps;
  for (const Pulls& pulls : outstanding_) steps.push_back({pulls.at + window(), pulls.count});
  if (unattributed_ > 0) {
    auto position = std::find_if(steps.begin(), steps.end(), [this](const Pulls& step) {
      return step.at > unattributed_until_;
    });
    steps.insert(position, {unattributed_until_, unattributed_});
  }
  return steps;
}

// Walks forward from the last reading: the count falls at `rate` and jumps up as counted pulls
// return. A window after the last reading, everything counted then is back and new pulls
// return as fast as they are made, so the count stops falling: if the threshold is not
// reached by then, it is not reached at this rate.
double BudgetModel::secondsUntil(double threshold, double rate, TimePoint now,
                                 bool& reached) const {
  const Observation& last = history_.back();
  double value = static_cast<double>(last.remaining);
  TimePoint t = last.at;
  reached = true;
  if (value <= threshold) return 0;
  reached = false;
  if (rate <= 0) return 0;
  auto crossing = [&](TimePoint at) {
    reached = true;
    return std::max(0.0, secondsBetween(now, at));
  };
  for (const Pulls& step : refillSteps()) {
    const TimePoint crosses = plusSeconds(t, (value - threshold) / rate);
    if (crosses <= step.at) return crossing(crosses);
    value += static_cast<double>(step.count) - rate * secondsBetween(t, step.at);
    t = step.at;
  }
  const TimePoint crosses = plusSeconds(t, (value - threshold) / rate);
  if (window().count() == 0 || crosses <= last.at + window()) return crossing(crosses);
  return 0;
}

Forecast BudgetModel::forecast(TimePoint now, const ForecastSettings& settings) const {
  Forecast result;
  result.history_points = history_.size();
  if (history_.empty()) return result;
  result.short_rate = rateOver(settings.short_lookback, now);
  result.long_rate = rateOver(settings.long_lookback, now);
  const double rate = result.short_rate;
  bool reached = false;
  const double to_zero = secondsUntil(0, rate, now, reached);
  if (reached) result.exhaustion_seconds = to_zero;
  const double to_critical =
      secondsUntil(static_cast<double>(settings.critical_remaining), rate, now, reached);
  if (reached) result.critical_seconds = to_critical;

  const std::vector<Pulls> steps = refillSteps();
  if (!steps.empty()) result.next_refill_seconds = std::max(0.0, secondsBetween(now, steps[0].at));

  // The count at the horizon: falling at the rate (not below zero: pulls fail there) and
  // rising as counted pulls return, until a window after the last reading.
  const Observation& last = history_.back();
  const TimePoint horizon_at = now + settings.horizon;
  TimePoint falls_until = horizon_at;
  if (window().count() > 0) falls_until = std::min(horizon_at, last.at + window());
  double expected = static_cast<double>(last.remaining);
  TimePoint t = last.at;
  for (const Pulls& step : steps) {
    if (step.at > horizon_at) break;
    const TimePoint until = std::min(step.at, falls_until);
    if (until > t) expected = std::max(0.0, expected - rate * secondsBetween(t, until));
    t = std::max(t, until);
    expected += static_cast<double>(step.count);
  }
  if (falls_until > t) expected = std::max(0.0, expected - rate * secondsBetween(t, falls_until));
  result.expected_remaining = std::clamp(expected, 0.0, static_cast<double>(last.limit));
  return result;
}

std::vector<Observation> BudgetModel::history() const { return {history_.begin(), history_.end()}; }

std::optional<Observation> BudgetModel::latest() const {
  if (history_.empty()) return std::nullopt;
  return history_.back();
}

}  // namespace pullguard
