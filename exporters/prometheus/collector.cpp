#include "prometheus/collector.hpp"

#include <prometheus/text_serializer.h>

#include "clock.hpp"
#include "forecast_text.hpp"
#include "version.hpp"

namespace pullguard {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

MetricFamily family(std::string name, std::string help, MetricType type) {
  return MetricFamily{std::move(name), std::move(help), type, {}};
}

void addGauge(MetricFamily& metric_family, Labels labels, double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  metric_family.metric.push_back(std::move(metric));
}

void addCounter(MetricFamily& metric_family, Labels labels, double value) {
  ClientMetric metric;
  metric.label = std::move(labels);
  metric.counter.value = value;
  metric_family.metric.push_back(std::move(metric));
}

Labels slotLabels(const SlotSnapshot& slot) {
  return {{"identity", slot.identity}, {"family", std::string(familyName(slot.family))}};
}

Labels bucketLabels(const SlotSnapshot& slot) {
  Labels labels = slotLabels(slot);
  labels.push_back({"source", slot.source});
  return labels;
}

// Families whose values come from the last good reading of each bucket.
void addReadingFamilies(const Snapshot& snapshot, std::vector<MetricFamily>& out) {
  auto limit =
      family("pullguard_ratelimit_limit",
             "Pulls allowed per window (ratelimit-limit), cached from the last good probe.",
             MetricType::Gauge);
  auto remaining =
      family("pullguard_ratelimit_remaining",
             "Pulls left in the window (ratelimit-remaining), cached from the last good probe.",
             MetricType::Gauge);
  auto window = family("pullguard_ratelimit_window_seconds",
                       "Length of the rate-limit window (w=), cached from the last good probe.",
                       MetricType::Gauge);
  auto unlimited = family("pullguard_ratelimit_unlimited",
                          "1 when the last good probe had no limit headers (paid plan or exempt).",
                          MetricType::Gauge);
  auto observed =
      family("pullguard_ratelimit_observed_timestamp_seconds",
             "When the cached rate-limit values were read, in Unix seconds.", MetricType::Gauge);
  for (const SlotSnapshot& slot : snapshot.slots) {
    if (!slot.observed_at) continue;
    addGauge(unlimited, slotLabels(slot), slot.unlimited ? 1 : 0);
    addGauge(observed, slotLabels(slot), toUnixSeconds(*slot.observed_at));
    if (!slot.quota || slot.unlimited) continue;
    addGauge(limit, bucketLabels(slot), static_cast<double>(slot.quota->limit));
    addGauge(remaining, bucketLabels(slot), static_cast<double>(slot.quota->remaining));
    if (slot.quota->window_seconds) {
      addGauge(window, bucketLabels(slot), static_cast<double>(*slot.quota->window_seconds));
    }
  }
  for (auto* f : {&limit, &remaining, &window, &unlimited, &observed}) out.push_back(std::move(*f));
}

void addProbeFamilies(const Snapshot& snapshot, std::vector<MetricFamily>& out) {
  auto success =
      family("pullguard_probe_success",
             "1 when the last probe read the budget (outcome ok or unlimited).", MetricType::Gauge);
  auto duration = family("pullguard_probe_duration_seconds",
                         "Duration of the last probe, token request included.", MetricType::Gauge);
  auto last_success =
      family("pullguard_last_success_timestamp_seconds",
             "When a probe last read the budget, in Unix seconds.", MetricType::Gauge);
  auto probes =
      family("pullguard_probes_total", "Probes finished, by outcome.", MetricType::Counter);
  for (const SlotSnapshot& slot : snapshot.slots) {
    if (slot.last_outcome) {
      addGauge(success, slotLabels(slot), isSuccess(*slot.last_outcome) ? 1 : 0);
      addGauge(duration, slotLabels(slot), slot.last_duration_seconds);
    }
    if (slot.last_success_at) {
      addGauge(last_success, slotLabels(slot), toUnixSeconds(*slot.last_success_at));
    }
    for (const auto& [outcome, count] : slot.probes_total) {
      Labels labels = slotLabels(slot);
      labels.push_back({"outcome", std::string(outcomeName(outcome))});
      addCounter(probes, std::move(labels), static_cast<double>(count));
    }
  }
  for (auto* f : {&success, &duration, &last_success, &probes}) out.push_back(std::move(*f));
}

// Families from each bucket's budget model, computed at its last probe.
void addForecastFamilies(const Snapshot& snapshot, std::vector<MetricFamily>& out) {
  auto rate = family("pullguard_ratelimit_consumption_rate",
                     "Pulls per second inferred from the remaining counts over the lookback, as "
                     "of the last probe.",
                     MetricType::Gauge);
  auto exhaustion = family("pullguard_ratelimit_exhaustion_seconds",
                           "Seconds until no pulls are left at the short-lookback rate, counting "
                           "pulls that return as the window slides; absent when never.",
                           MetricType::Gauge);
  auto critical = family("pullguard_ratelimit_critical_seconds",
                         "Seconds until the remaining count reaches the critical threshold at the "
                         "short-lookback rate; absent when never.",
                         MetricType::Gauge);
  auto refill = family("pullguard_ratelimit_next_refill_seconds",
                       "Seconds until the oldest counted pull returns to the bucket; absent when "
                       "none is counted or the window is unknown.",
                       MetricType::Gauge);
  auto expected = family("pullguard_ratelimit_forecast_remaining",
                         "Pulls expected to be left at the forecast horizon "
                         "(thresholds.forecast_horizon_seconds) at the short-lookback rate.",
                         MetricType::Gauge);
  auto level = family("pullguard_alert_level",
                      "Alert level of the bucket: 0 ok, 1 warning, 2 critical, 3 exhausted.",
                      MetricType::Gauge);
  const std::string short_label = compactDuration(snapshot.forecast.short_lookback_seconds);
  const std::string long_label = compactDuration(snapshot.forecast.long_lookback_seconds);
  for (const SlotSnapshot& slot : snapshot.slots) {
    if (!slot.observed_at) continue;
    addGauge(level, bucketLabels(slot), static_cast<double>(slot.alert_level));
    const Forecast& f = slot.forecast;
    if (f.history_points == 0) continue;
    Labels short_labels = bucketLabels(slot);
    short_labels.push_back({"lookback", short_label});
    addGauge(rate, std::move(short_labels), f.short_rate);
    if (long_label != short_label) {
      Labels long_labels = bucketLabels(slot);
      long_labels.push_back({"lookback", long_label});
      addGauge(rate, std::move(long_labels), f.long_rate);
    }
    if (f.exhaustion_seconds) addGauge(exhaustion, bucketLabels(slot), *f.exhaustion_seconds);
    if (f.critical_seconds) addGauge(critical, bucketLabels(slot), *f.critical_seconds);
    if (f.next_refill_seconds) addGauge(refill, bucketLabels(slot), *f.next_refill_seconds);
    if (f.expected_remaining) addGauge(expected, bucketLabels(slot), *f.expected_remaining);
  }
  for (auto* f : {&rate, &exhaustion, &critical, &refill, &expected, &level}) {
    out.push_back(std::move(*f));
  }
}

void addAlertingFamilies(const Snapshot& snapshot, std::vector<MetricFamily>& out) {
  auto alerts = family("pullguard_alerts_total",
                       "Alert level changes notified, by the level reached (ok: resolved).",
                       MetricType::Counter);
  for (const auto& [level, count] : snapshot.alerts_total) {
    addCounter(alerts, {{"level", std::string(alertLevelName(level))}}, static_cast<double>(count));
  }
  auto notifications = family("pullguard_notifications_total",
                              "Alert deliveries by sink and outcome (success, retry, failure, "
                              "dropped when the sink's queue was full).",
                              MetricType::Counter);
  for (const auto& [sink, outcomes] : snapshot.notifications_total) {
    for (const auto& [outcome, count] : outcomes) {
      addCounter(notifications, {{"sink", sink}, {"outcome", outcome}}, static_cast<double>(count));
    }
  }
  auto writes = family("pullguard_storage_writes_total",
                       "Saves of the budget history file, by outcome (success, failure).",
                       MetricType::Counter);
  for (const auto& [outcome, count] : snapshot.storage_writes_total) {
    addCounter(writes, {{"outcome", outcome}}, static_cast<double>(count));
  }
  for (auto* f : {&alerts, &notifications, &writes}) out.push_back(std::move(*f));
}

void addAgentFamilies(const Snapshot& snapshot, std::vector<MetricFamily>& out) {
  auto tokens =
      family("pullguard_token_requests_total",
             "Requests to the registry's token endpoint, by outcome.", MetricType::Counter);
  for (const auto& [identity, outcomes] : snapshot.token_requests_total) {
    for (const auto& [outcome, count] : outcomes) {
      addCounter(tokens,
                 {{"identity", identity}, {"outcome", std::string(tokenOutcomeName(outcome))}},
                 static_cast<double>(count));
    }
  }
  auto reload_ok =
      family("pullguard_config_last_reload_successful",
             "1 when the last configuration load (start or SIGHUP) succeeded.", MetricType::Gauge);
  addGauge(reload_ok, {}, snapshot.config_last_reload_successful ? 1 : 0);
  auto reload_at = family("pullguard_config_last_reload_success_timestamp_seconds",
                          "When a configuration was last loaded successfully, in Unix seconds.",
                          MetricType::Gauge);
  addGauge(reload_at, {}, toUnixSeconds(snapshot.config_last_reload_success_at));
  auto build = family("pullguard_build_info", "Version and git revision of this pullguard build.",
                      MetricType::Gauge);
  addGauge(build, {{"version", kVersion}, {"revision", kRevision}}, 1);
  for (auto* f : {&tokens, &reload_ok, &reload_at, &build}) out.push_back(std::move(*f));
}

}  // namespace

std::vector<MetricFamily> buildMetricFamilies(const Snapshot& snapshot) {
  std::vector<MetricFamily> families;
  addReadingFamilies(snapshot, families);
  addProbeFamilies(snapshot, families);
  addForecastFamilies(snapshot, families);
  addAlertingFamilies(snapshot, families);
  addAgentFamilies(snapshot, families);
  return families;
}

std::string renderPrometheusText(const prometheus::Collectable& collectable) {
  return prometheus::TextSerializer().Serialize(collectable.Collect());
}

}  // namespace pullguard
