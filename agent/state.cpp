#include "state.hpp"

#include <algorithm>
#include <cmath>

#include "alert_policy.hpp"
#include "forecast_text.hpp"

namespace pullguard {
namespace {

constexpr const char* kStorageOutcomes[] = {"success", "failure"};

SlotSnapshot freshSlot(const std::string& identity, AddressFamily family) {
  SlotSnapshot slot;
  slot.identity = identity;
  slot.family = family;
  for (ProbeOutcome outcome : kAllProbeOutcomes) slot.probes_total[outcome] = 0;
  return slot;
}

}  // namespace

void State::configure(const std::vector<Identity>& identities, const Config& config) {
  std::vector<SlotSnapshot> slots;
  std::vector<Model> models;
  std::map<std::string, std::map<TokenOutcome, std::uint64_t>> tokens;
  for (const Identity& identity : identities) {
    const std::string& name = identity.config.name;
    for (AddressFamily family : identity.config.families) {
      if (const SlotSnapshot* existing = find(name, family)) {
        slots.push_back(*existing);
        models.push_back(std::move(models_[indexOf(*existing)]));
      } else {
        slots.push_back(freshSlot(name, family));
        models.emplace_back();
      }
      models.back().budget.setMinimumKeep(
          std::chrono::seconds(config.forecast.long_lookback_seconds));
    }
    auto previous = current_.token_requests_total.find(name);
    if (previous != current_.token_requests_total.end()) {
      tokens[name] = previous->second;
    } else {
      for (TokenOutcome outcome : kAllTokenOutcomes) tokens[name][outcome] = 0;
    }
  }
  current_.slots = std::move(slots);
  models_ = std::move(models);
  current_.token_requests_total = std::move(tokens);
  current_.thresholds = config.thresholds;
  current_.forecast = config.forecast;
  repeat_interval_seconds_ = config.alerts.repeat_interval_seconds;
  for (AlertLevel level : kAllAlertLevels) current_.alerts_total.try_emplace(level, 0);
  for (const char* outcome : kStorageOutcomes)
    current_.storage_writes_total.try_emplace(outcome, 0);
}

RecordOutcome State::record(const std::string& identity, AddressFamily family,
                            const ProbeResult& result) {
  RecordOutcome outcome;
  SlotSnapshot* slot = find(identity, family);
  if (slot == nullptr) return outcome;
  Model& model = models_[indexOf(*slot)];
  auto tokens = current_.token_requests_total.find(identity);
  if (tokens != current_.token_requests_total.end()) {
    for (TokenOutcome token : result.token_requests) ++tokens->second[token];
  }
  ++slot->probes_total[result.outcome];
  slot->last_outcome = result.outcome;
  slot->last_error = result.error;
  slot->last_duration_seconds = result.duration_seconds;
  slot->last_probe_at = result.finished_at;

  if (isSuccess(result.outcome)) {
    slot->consecutive_failures = 0;
    slot->last_success_at = result.finished_at;
  } else {
    ++slot->consecutive_failures;
  }
  // A reading is kept when the probe produced one: ok, unlimited, or a 429 that carried the
  // headers. Otherwise the last good reading stays, with the time it was seen.
  if (result.quota || result.outcome == ProbeOutcome::kUnlimited) {
    slot->quota = result.quota;
    slot->unlimited = result.outcome == ProbeOutcome::kUnlimited;
    slot->source = result.source;
    slot->observed_at = result.finished_at;
  }
  if (result.quota) {
    if (result.source != model.source) {
      model.budget.restore({});
      model.source = result.source;
    }
    outcome.reading =
        model.budget.observe({result.finished_at, result.quota->remaining, result.quota->limit,
                              result.quota->window_seconds.value_or(0)});
  }
  const AlertLevel previous = slot->alert_level;
  // A 429 without the headers says nothing about the budget (it may be another limit); with
  // them it is Docker Hub saying the bucket is empty, whatever the count.
  const bool rate_limited = result.outcome == ProbeOutcome::kRateLimited && result.quota;
  refresh(*slot, model, rate_limited, result.finished_at);
  outcome.alert = alertFor(*slot, model, previous, rate_limited, result.finished_at);
  return outcome;
}

ForecastSettings State::forecastSettings(std::int64_t limit) const {
  ForecastSettings settings;
  settings.short_lookback = std::chrono::seconds(current_.forecast.short_lookback_seconds);
  settings.long_lookback = std::chrono::seconds(current_.forecast.long_lookback_seconds);
  settings.horizon = std::chrono::seconds(current_.thresholds.forecast_horizon_seconds);
  settings.critical_remaining =
      static_cast<std::int64_t>(std::floor(criticalCount(current_.thresholds, limit)));
  return settings;
}

// The level is judged on the model's reading, not the raw one: a stray "full" the model holds
// back must not resolve an alert.
void State::refresh(SlotSnapshot& slot, Model& model, bool rate_limited,
                    std::chrono::system_clock::time_point now) {
  const std::optional<Observation> latest = model.budget.latest();
  if (slot.unlimited || !latest) {
    slot.forecast = Forecast{};
  } else {
    slot.forecast = model.budget.forecast(now, forecastSettings(latest->limit));
  }
  LevelInputs inputs;
  inputs.unlimited = slot.unlimited;
  inputs.rate_limited = rate_limited;
  if (latest && !slot.unlimited) {
    inputs.remaining = latest->remaining;
    inputs.limit = latest->limit;
    inputs.exhaustion_seconds = slot.forecast.exhaustion_seconds;
  }
  slot.alert_level = evaluateAlertLevel(inputs, current_.thresholds, slot.alert_level);
}

std::optional<AlertEvent> State::alertFor(const SlotSnapshot& slot, Model& model,
                                          AlertLevel previous, bool rate_limited,
                                          std::chrono::system_clock::time_point now) {
  std::optional<AlertEventKind> kind = transitionKind(previous, slot.alert_level);
  if (kind) {
    ++current_.alerts_total[slot.alert_level];
  } else if (slot.alert_level != AlertLevel::kOk && repeat_interval_seconds_ > 0 &&
             model.notified_at &&
             now - *model.notified_at >= std::chrono::seconds(repeat_interval_seconds_)) {
    kind = AlertEventKind::kRepeat;
  }
  if (!kind) return std::nullopt;
  model.notified_at = now;
  AlertEvent event;
  event.kind = *kind;
  event.level = slot.alert_level;
  event.previous_level = *kind == AlertEventKind::kRepeat ? slot.alert_level : previous;
  event.identity = slot.identity;
  event.family = slot.family;
  event.source = model.source;
  event.at = now;
  const std::optional<Observation> latest = model.budget.latest();
  if (latest && !slot.unlimited) {
    event.remaining = latest->remaining;
    event.limit = latest->limit;
    if (latest->window_seconds > 0) event.window_seconds = latest->window_seconds;
    event.consumption_rate = slot.forecast.short_rate;
    event.exhaustion_seconds = slot.forecast.exhaustion_seconds;
    event.next_refill_seconds = slot.forecast.next_refill_seconds;
    event.reason = std::to_string(latest->remaining) + " of " + std::to_string(latest->limit) +
                   " pulls left; " +
                   describeForecast(slot.forecast.exhaustion_seconds, slot.forecast.short_rate);
  } else if (slot.unlimited) {
    event.reason = "no limit reported (paid plan or exempt)";
  }
  if (rate_limited) event.reason = "Docker Hub answered 429 Too Many Requests; " + event.reason;
  if (event.reason.ends_with("; ")) event.reason.resize(event.reason.size() - 2);
  return event;
}

void State::recordReload(bool successful, std::chrono::system_clock::time_point at) {
  current_.config_last_reload_successful = successful;
  if (successful) current_.config_last_reload_success_at = at;
}

void State::setNotificationSinks(const std::vector<std::string>& sinks,
                                 const std::vector<std::string>& outcomes) {
  std::map<std::string, std::map<std::string, std::uint64_t>> totals;
  for (const std::string& sink : sinks) {
    auto previous = current_.notifications_total.find(sink);
    if (previous != current_.notifications_total.end()) totals[sink] = previous->second;
    for (const std::string& outcome : outcomes) totals[sink].try_emplace(outcome, 0);
  }
  current_.notifications_total = std::move(totals);
}

void State::recordNotification(const std::string& sink, std::string_view outcome) {
  auto found = current_.notifications_total.find(sink);
  if (found == current_.notifications_total.end()) return;  // a sink of a replaced config
  ++found->second[std::string(outcome)];
}

void State::recordStorageWrite(bool success) {
  ++current_.storage_writes_total[success ? "success" : "failure"];
}

std::vector<StoredBucket> State::histories() const {
  std::vector<StoredBucket> buckets;
  for (std::size_t i = 0; i < current_.slots.size(); ++i) {
    std::vector<Observation> observations = models_[i].budget.history();
    if (observations.empty()) continue;
    buckets.push_back({current_.slots[i].identity, current_.slots[i].family, models_[i].source,
                       std::move(observations)});
  }
  return buckets;
}

void State::restore(const std::vector<StoredBucket>& buckets,
                    std::chrono::system_clock::time_point now) {
  for (const StoredBucket& bucket : buckets) {
    SlotSnapshot* slot = find(bucket.identity, bucket.family);
    if (slot == nullptr || bucket.observations.empty()) continue;
    Model& model = models_[indexOf(*slot)];
    model.source = bucket.source;
    model.budget.restore(bucket.observations);
    // Shown (and judged) before the first probe: the last reading, with when it was seen.
    const Observation& last = bucket.observations.back();
    slot->quota =
        Quota{last.limit, last.remaining,
              last.window_seconds > 0 ? std::optional(last.window_seconds) : std::nullopt};
    slot->source = bucket.source;
    slot->observed_at = last.at;
    refresh(*slot, model, false, now);
    // The level was announced before the restart (or not at all, if it died first; a restart
    // loop must not flood the sinks): repeats resume from now.
    if (slot->alert_level != AlertLevel::kOk) model.notified_at = now;
  }
}

std::shared_ptr<const Snapshot> State::snapshot() const {
  return std::make_shared<const Snapshot>(current_);
}

std::uint32_t State::consecutiveFailures(const std::string& identity, AddressFamily family) const {
  const SlotSnapshot* slot = find(identity, family);
  return slot ? slot->consecutive_failures : 0;
}

SlotSnapshot* State::find(const std::string& identity, AddressFamily family) {
  for (SlotSnapshot& slot : current_.slots) {
    if (slot.identity == identity && slot.family == family) return &slot;
  }
  return nullptr;
}

const SlotSnapshot* State::find(const std::string& identity, AddressFamily family) const {
  for (const SlotSnapshot& slot : current_.slots) {
    if (slot.identity == identity && slot.family == family) return &slot;
  }
  return nullptr;
}

}  // namespace pullguard
