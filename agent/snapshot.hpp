// An immutable picture of everything the agent knows, built by the state's single writer and
// read by the exporters and the HTTP API without locks on the state itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "address_family.hpp"
#include "alerts/alert_event.hpp"
#include "budget_model.hpp"
#include "config.hpp"
#include "probe_result.hpp"

namespace pullguard {

// One bucket as pullguard sees it: an identity probed over one address family.
struct SlotSnapshot {
  std::string identity;
  AddressFamily family = AddressFamily::kAny;

  // The last probe, whatever its outcome; empty before the first one finishes.
  std::optional<ProbeOutcome> last_outcome;
  std::string last_error;
  double last_duration_seconds = 0;
  std::optional<std::chrono::system_clock::time_point> last_probe_at;

  // The last good reading, kept through failures (with the time it was seen).
  std::optional<Quota> quota;
  bool unlimited = false;  // the last good reading was a 200 without limit headers
  std::string source;      // the bucket key of the last good reading
  std::optional<std::chrono::system_clock::time_point> observed_at;
  std::optional<std::chrono::system_clock::time_point> last_success_at;

  std::map<ProbeOutcome, std::uint64_t> probes_total;  // every outcome present, zeros included
  std::uint32_t consecutive_failures = 0;

  // The budget model's view as of the last probe; empty (zero points) for unlimited buckets.
  Forecast forecast;
  AlertLevel alert_level = AlertLevel::kOk;
};

struct Snapshot {
  std::vector<SlotSnapshot> slots;  // config order: identity, then family
  // identity -> token outcome -> count, every outcome present.
  std::map<std::string, std::map<TokenOutcome, std::uint64_t>> token_requests_total;
  Thresholds thresholds;
  ForecastConfig forecast;
  // Level changes notified, by the level reached (ok: resolved). Every level present.
  std::map<AlertLevel, std::uint64_t> alerts_total;
  // sink -> outcome name -> count, every configured sink with every outcome.
  std::map<std::string, std::map<std::string, std::uint64_t>> notifications_total;
  // "success"/"failure" -> saves of the history file.
  std::map<std::string, std::uint64_t> storage_writes_total;
  bool config_last_reload_successful = true;
  // When a configuration was last loaded successfully (start or SIGHUP).
  std::chrono::system_clock::time_point config_last_reload_success_at;
};

// Hands the newest snapshot to readers on other threads.
class SnapshotPublisher {
 public:
  void publish(std::shared_ptr<const Snapshot> snapshot) {
    std::lock_guard lock(mutex_);
    latest_ = std::move(snapshot);
  }
  std::shared_ptr<const Snapshot> latest() const {
    std::lock_guard lock(mutex_);
    return latest_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> latest_ = std::make_shared<const Snapshot>();
};

}  // namespace pullguard
