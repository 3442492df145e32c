// Delivers alert events to the configured sinks: the log sink inline, every other sink on a
// worker thread of its own with a bounded queue, so a slow or dead sink never delays another.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/alert_event.hpp"
#include "alerts/alerts_config.hpp"
#include "http_client.hpp"

namespace pullguard {

// Values of pullguard_notifications_total's "outcome" label.
enum class NotificationOutcome { kSuccess, kRetry, kFailure, kDropped };
inline constexpr NotificationOutcome kAllNotificationOutcomes[] = {
    NotificationOutcome::kSuccess, NotificationOutcome::kRetry, NotificationOutcome::kFailure,
    NotificationOutcome::kDropped};

// "success", "retry", "failure", "dropped".
std::string_view notificationOutcomeName(NotificationOutcome outcome);

using HttpClientFactory = std::function<std::unique_ptr<HttpClient>()>;

struct NotifierOptions {
  int max_attempts = 4;                           // per event and sink
  std::chrono::milliseconds first_backoff{1000};  // doubles, with +/-20% jitter, capped
  std::chrono::milliseconds max_backoff{30000};
  std::string hostname;                   // agent.hostname; empty: gethostname()
  HttpClientFactory http_client_factory;  // empty: makeCurlHttpClient; tests fake it
};

// Called once per attempt outcome: kRetry for a failed attempt that will be retried, then
// kSuccess or kFailure, or kDropped when the sink's queue was full. Called from the sinks'
// worker threads (from submit()'s thread for log sinks and drops), until ~Notifier returns.
using NotificationReport = std::function<void(const std::string& sink, NotificationOutcome)>;

// The wait before retry `attempt` (1 for the first retry): first_backoff doubled per attempt,
// capped at max_backoff, spread by jitter_unit * 20% (jitter_unit in [-1, 1]), never above
// max_backoff.
std::chrono::milliseconds retryDelay(int attempt, const NotifierOptions& options,
                                     double jitter_unit);

class Notifier {
 public:
  Notifier(std::vector<ResolvedSink> sinks, std::size_t queue_size, NotifierOptions options,
           NotificationReport report);
  // Stops: queued events are abandoned, backoff waits and exec children cut short; returns
  // within about a second. An HTTP request in flight ends only with cancelAllHttpTransfers()
  // (or its timeout), so the daemon calls that first.
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Never blocks on a sink: a full sink queue drops the event and reports kDropped.
  void submit(const AlertEvent& event);

  // In configured order.
  std::vector<std::string> sinkNames() const;

 private:
  class Worker;

  // The workers hold references to options_ and report_, so those are declared first.
  NotifierOptions options_;
  NotificationReport report_;
  std::vector<std::string> names_;
  std::vector<std::string> log_sinks_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace pullguard
