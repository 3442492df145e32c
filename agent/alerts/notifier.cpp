#include "alerts/notifier.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "alerts/sink_delivery.hpp"
#include "log.hpp"

namespace pullguard {
namespace {

constexpr double kJitterRatio = 0.2;

std::string localHostname() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "";
  return buffer;
}

}  // namespace

std::string_view notificationOutcomeName(NotificationOutcome outcome) {
  switch (outcome) {
    case NotificationOutcome::kSuccess:
      return "success";
    case NotificationOutcome::kRetry:
      return "retry";
    case NotificationOutcome::kFailure:
      return "failure";
    case NotificationOutcome::kDropped:
      return "dropped";
  }
  return "failure";
}

std::chrono::milliseconds retryDelay(int attempt, const NotifierOptions& options,
                                     double jitter_unit) {
  const double cap = static_cast<double>(options.max_backoff.count());
  double delay = static_cast<double>(options.first_backoff.count());
  for (int i = 1; i < attempt && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap) * (1.0 + kJitterRatio * std::clamp(jitter_unit, -1.0, 1.0));
  return std::chrono::milliseconds(std::llround(std::clamp(delay, 0.0, cap)));
}

// One sink's queue and thread. The thread owns the sink's HTTP client, so connections to a
// webhook are reused between alerts and never shared between threads.
class Notifier::Worker {
 public:
  Worker(ResolvedSink sink, std::size_t capacity, const NotifierOptions& options,
         const NotificationReport& report)
      : sink_(std::move(sink)), capacity_(capacity), options_(options), report_(report) {
    std::random_device seed;
    random_.seed(seed());
    thread_ = std::thread([this] { run(); });
  }

  ~Worker() {
    requestStop();
    thread_.join();
  }

  void requestStop() {
    {
      std::lock_guard lock(mutex_);
      stopping_.store(true);
    }
    wake_.notify_all();
  }

  const std::string& name() const { return sink_.config.name; }

  // False when the queue is full.
  bool push(const AlertEvent& event) {
    {
      std::lock_guard lock(mutex_);
      if (queue_.size() >= capacity_) return false;
      queue_.push_back(event);
    }
    wake_.notify_one();
    return true;
  }

 private:
  void run() {
    std::unique_ptr<HttpClient> client;
    if (sink_.config.type != SinkType::kExec) {
      client = options_.http_client_factory ? options_.http_client_factory() : makeCurlHttpClient();
    }
    while (true) {
      AlertEvent event;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_.load() || !queue_.empty(); });
        if (stopping_.load()) return;
        event = std::move(queue_.front());
        queue_.pop_front();
      }
      deliver(event, client.get());
    }
  }

  void deliver(const AlertEvent& event, HttpClient* client) {
    const int attempts = std::max(1, options_.max_attempts);
    for (int attempt = 1; attempt <= attempts; ++attempt) {
      const DeliveryResult result = client
                                        ? deliverHttp(*client, sink_, event, options_.hostname)
                                        : deliverExec(sink_, event, options_.hostname, stopping_);
      if (stopping_.load()) return;  // a cut-short attempt says nothing about the sink
      if (result.verdict == DeliveryResult::Verdict::kDelivered) {
        report_(name(), NotificationOutcome::kSuccess);
        return;
      }
      if (result.verdict == DeliveryResult::Verdict::kGiveUp || attempt == attempts) {
        logger().warn("alert notification failed",
                      {{"sink", name()},
                       {"type", std::string(sinkTypeName(sink_.config.type))},
                       {"identity", event.identity},
                       {"attempts", std::to_string(attempt)},
                       {"error", result.detail}});
        report_(name(), NotificationOutcome::kFailure);
        return;
      }
      logger().info(
          "alert notification will be retried",
          {{"sink", name()}, {"attempt", std::to_string(attempt)}, {"error", result.detail}});
      report_(name(), NotificationOutcome::kRetry);
      if (!waitBeforeRetry(attempt)) return;
    }
  }

  // False when the notifier stops during the wait.
  bool waitBeforeRetry(int attempt) {
    std::uniform_real_distribution<double> jitter(-1.0, 1.0);
    const auto delay = retryDelay(attempt, options_, jitter(random_));
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, delay, [this] { return stopping_.load(); });
  }

  const ResolvedSink sink_;
  const std::size_t capacity_;
  const NotifierOptions& options_;
  const NotificationReport& report_;
  std::mt19937 random_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<AlertEvent> queue_;
  std::atomic<bool> stopping_{false};  // also read without the lock by an exec hook's wait
  std::thread thread_;                 // last: started once everything above exists
};

Notifier::Notifier(std::vector<ResolvedSink> sinks, std::size_t queue_size, NotifierOptions options,
                   NotificationReport report)
    : options_(std::move(options)), report_(std::move(report)) {
  if (options_.hostname.empty()) options_.hostname = localHostname();
  if (!report_) report_ = [](const std::string&, NotificationOutcome) {};
  const std::size_t capacity = std::max<std::size_t>(1, queue_size);
  for (ResolvedSink& sink : sinks) {
    names_.push_back(sink.config.name);
    if (sink.config.type == SinkType::kLog) {
      log_sinks_.push_back(sink.config.name);
    } else {
      workers_.push_back(std::make_unique<Worker>(std::move(sink), capacity, options_, report_));
    }
  }
}

Notifier::~Notifier() {
  // Stop every worker first, so shutdown waits for the slowest sink once, not for each in turn.
  for (auto& worker : workers_) worker->requestStop();
  workers_.clear();
}

void Notifier::submit(const AlertEvent& event) {
  for (const std::string& name : log_sinks_) {
    logAlert(event);
    report_(name, NotificationOutcome::kSuccess);
  }
  for (auto& worker : workers_) {
    if (worker->push(event)) continue;
    logger().warn("alert notification dropped: queue full",
                  {{"sink", worker->name()},
                   {"identity", event.identity},
                   {"alert_level", std::string(alertLevelName(event.level))}});
    report_(worker->name(), NotificationOutcome::kDropped);
  }
}

std::vector<std::string> Notifier::sinkNames() const { return names_; }

}  // namespace pullguard
