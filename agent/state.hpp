// The agent's knowledge, owned by one writer (the event loop thread): per identity and family,
// the last probe, the last good reading and counters. Readers get immutable snapshots.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "alerts/alert_event.hpp"
#include "budget_model.hpp"
#include "config_loader.hpp"
#include "history_file.hpp"
#include "probe_result.hpp"
#include "snapshot.hpp"

namespace pullguard {

// What recording a probe changed beyond the counters.
struct RecordOutcome {
  std::optional<AlertEvent> alert;              // a level change, or a repeat that is due
  std::optional<BudgetModel::Applied> reading;  // what the budget model made of the reading
};

class State {
 public:
  // Sets the buckets from a (re)loaded configuration. Buckets whose identity and family are
  // still configured keep their readings, counters and budget history; the others are
  // dropped, so their series disappear from /metrics.
  void configure(const std::vector<Identity>& identities, const Config& config);

  // Records a finished probe, feeds its reading to the bucket's budget model and re-evaluates
  // the alert level. Unknown (identity, family) pairs are ignored: a probe that was in flight
  // across a reload that removed its identity.
  RecordOutcome record(const std::string& identity, AddressFamily family,
                       const ProbeResult& result);

  void recordReload(bool successful, std::chrono::system_clock::time_point at);

  // The sinks whose outcomes are counted (each starts with zeros); counts of sinks that stay
  // are kept.
  void setNotificationSinks(const std::vector<std::string>& sinks,
                            const std::vector<std::string>& outcomes);
  void recordNotification(const std::string& sink, std::string_view outcome);
  void recordStorageWrite(bool success);

  // The budget histories worth saving, and their restoration at start (before any probe).
  // Stored buckets that are not configured are ignored.
  std::vector<StoredBucket> histories() const;
  void restore(const std::vector<StoredBucket>& buckets, std::chrono::system_clock::time_point now);

  std::shared_ptr<const Snapshot> snapshot() const;

  // The consecutive failures of a bucket, for the scheduler's backoff.
  std::uint32_t consecutiveFailures(const std::string& identity, AddressFamily family) const;

 private:
  // The parts of a bucket that readers do not need: its whole history and alert bookkeeping.
  struct Model {
    BudgetModel budget;
    std::string source;  // the bucket the history belongs to; a new source starts afresh
    std::optional<std::chrono::system_clock::time_point> notified_at;
  };

  SlotSnapshot* find(const std::string& identity, AddressFamily family);
  const SlotSnapshot* find(const std::string& identity, AddressFamily family) const;
  std::size_t indexOf(const SlotSnapshot& slot) const { return &slot - current_.slots.data(); }
  ForecastSettings forecastSettings(std::int64_t limit) const;
  void refresh(SlotSnapshot& slot, Model& model, bool rate_limited,
               std::chrono::system_clock::time_point now);
  std::optional<AlertEvent> alertFor(const SlotSnapshot& slot, Model& model, AlertLevel previous,
                                     bool rate_limited, std::chrono::system_clock::time_point now);

  Snapshot current_;
  std::vector<Model> models_;  // parallel to current_.slots
  std::int64_t repeat_interval_seconds_ = 0;
};

}  // namespace pullguard
