#include "app/daemon.hpp"

#include <algorithm>
#include <asio.hpp>
#include <atomic>
#include <csignal>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "alerts/notifier.hpp"
#include "app/systemd_notify.hpp"
#include "history_store.hpp"
#include "log.hpp"
#include "probe.hpp"
#include "prometheus/collector.hpp"
#include "prometheus/metrics_page.hpp"
#include "schedule.hpp"
#include "state.hpp"
#include "status_report.hpp"
#include "version.hpp"
#include "web_server.hpp"

namespace pullguard {
namespace {

// Probes block a worker for at most their timeout; a handful of workers serve dozens of
// buckets probed at intervals of ten seconds or more. Each worker costs memory (its stack and,
// with glibc, possibly a malloc arena), so the pool stays small.
constexpr std::size_t kMaxWorkers = 4;

// One bucket's probing: its prober, its timer, and whether a probe is out on a worker.
struct Slot {
  Slot(asio::io_context& io, std::string identity_name, AddressFamily address_family,
       std::shared_ptr<Prober> slot_prober)
      : identity(std::move(identity_name)),
        family(address_family),
        prober(std::move(slot_prober)),
        timer(io) {}

  std::string identity;
  AddressFamily family;
  std::shared_ptr<Prober> prober;
  asio::steady_timer timer;
  bool in_flight = false;
};

bool sameTarget(const ProbeTarget& a, const ProbeTarget& b) {
  auto creds = [](const ProbeTarget& t) {
    return t.credentials ? t.credentials->username + '\n' + t.credentials->password : std::string();
  };
  return a.registry.url == b.registry.url && a.registry.repository == b.registry.repository &&
         a.registry.reference == b.registry.reference && a.family == b.family &&
         a.timeout == b.timeout && creds(a) == creds(b);
}

class Daemon {
 public:
  Daemon(DaemonOptions options, LoadedConfig initial)
      : options_(std::move(options)),
        workers_(kMaxWorkers),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        watchdog_timer_(io_),
        rng_(std::random_device{}()),
        metrics_page_(publisher_),
        history_(options_.storage_path),
        save_timer_(io_) {
    apply(std::move(initial));
    restoreHistory();
    state_.recordReload(true, clock_.wallNow());
    publish();
  }

  int run() {
    const std::string listen =
        options_.listen_address.empty() ? config_.web.listen_address : options_.listen_address;
    std::string error;
    web_ = WebServer::start(listen, routes(), error);
    if (!web_) {
      logger().error("cannot start web server", {{"error", error}});
      return 1;
    }
    logger().info("listening", {{"address", web_->boundAddress()}});
    systemd_.ready("serving on " + web_->boundAddress());
    startWatchdog();
    waitForSignal();
    io_.run();
    notifier_.reset();  // its queued events are abandoned; in-flight requests were cancelled
    joinRetired(true);
    workers_.join();  // transfers were cancelled, so this is quick
    // Readings a scheduled (or pending) save had not written yet.
    if (save_scheduled_ || save_pending_) saveHistoryNow();
    // Results posted after the loop stopped: run them (they return at once) so they release
    // their slots while the io_context is still whole.
    io_.restart();
    io_.poll();
    slots_.clear();
    logger().info("stopped");
    return 0;
  }

 private:
  std::vector<WebRoute> routes() {
    return {
        {"/metrics",
         [this] {
           return WebResponse{200, kPrometheusContentType, metrics_page_.render()};
         }},
        {"/-/healthy",
         [] {
           return WebResponse{200, "text/plain; charset=utf-8", "OK\n"};
         }},
        {"/-/ready", [this] { return readiness(); }},
        {"/api/v1/status",
         [this] {
           const auto snapshot = publisher_.latest();
           return WebResponse{200, "application/json",
                              renderStatusJson(entriesFromSnapshot(*snapshot), snapshot->thresholds,
                                               snapshot->forecast) +
                                  "\n"};
         }},
        {"/", [] { return landingPage(); }},
    };
  }

  WebResponse readiness() const {
    const auto snapshot = publisher_.latest();
    const bool ready =
        std::all_of(snapshot->slots.begin(), snapshot->slots.end(),
                    [](const SlotSnapshot& s) { return s.last_outcome.has_value(); });
    return ready ? WebResponse{200, "text/plain; charset=utf-8", "OK\n"}
                 : WebResponse{503, "text/plain; charset=utf-8", "waiting for the first probes\n"};
  }

  static WebResponse landingPage() {
    return {200, "text/html; charset=utf-8",
            "<!doctype html><html><head><title>pullguard</title></head><body>"
            "<h1>pullguard</h1><p>Docker Hub pull budget monitor.</p><ul>"
            "<li><a href=\"/metrics\">/metrics</a></li>"
            "<li><a href=\"/api/v1/status\">/api/v1/status</a></li>"
            "<li><a href=\"/-/healthy\">/-/healthy</a></li>"
            "<li><a href=\"/-/ready\">/-/ready</a></li></ul></body></html>\n"};
  }

  void waitForSignal() {
    signals_.async_wait([this](const asio::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        startReload();
        waitForSignal();
        return;
      }
      logger().info("shutting down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
      shutdown();
    });
  }

  // Sent from the loop thread: if the loop stops turning, systemd stops hearing from it.
  void startWatchdog() {
    const auto period = systemd_.watchdogPeriod();
    if (!period) return;
    watchdog_timer_.expires_after(*period);
    watchdog_timer_.async_wait([this](const asio::error_code& ec) {
      if (ec) return;
      systemd_.watchdog();
      startWatchdog();
    });
  }

  void shutdown() {
    systemd_.stopping();
    watchdog_timer_.cancel();
    stopping_ = true;
    cancelAllHttpTransfers();
    for (auto& slot : slots_) slot->timer.cancel();
    save_timer_.cancel();
    web_.reset();
    io_.stop();
  }

  // Reading the file and the secrets is I/O: done on a worker, applied on the loop.
  // Loads run on workers and can overtake each other (a secret file on a slow mount): only the
  // newest SIGHUP's load is applied, so an older file never replaces a newer one.
  void startReload() {
    systemd_.reloading();
    logger().info("reloading configuration", {{"file", options_.config_path}});
    const std::uint64_t sequence = ++reloads_requested_;
    asio::post(workers_, [this, sequence] {
      auto result = std::make_shared<LoadResult>(loadConfig(options_.config_path));
      asio::post(io_, [this, sequence, result] { finishReload(sequence, std::move(*result)); });
    });
  }

  void finishReload(std::uint64_t sequence, LoadResult result) {
    if (stopping_) return;  // a reload that finished while shutting down changes nothing
    if (sequence != reloads_requested_) {
      logger().info("dropped a configuration load overtaken by a newer SIGHUP");
      return;
    }
    if (!result.loaded) {
      logger().error("reload failed; keeping the running configuration", {{"error", result.error}});
      state_.recordReload(false, clock_.wallNow());
      publish();
      systemd_.ready("reload failed; running the previous configuration");
      return;
    }
    if (result.loaded->config.web.listen_address != config_.web.listen_address &&
        options_.listen_address.empty()) {
      logger().warn("web.listen_address changed; it takes effect at the next restart");
    }
    apply(std::move(*result.loaded));
    state_.recordReload(true, clock_.wallNow());
    publish();
    logger().info("configuration reloaded", {{"buckets", std::to_string(slots_.size())}});
    systemd_.ready("serving on " + (web_ ? web_->boundAddress() : std::string()));
  }

  // Builds the slots for a configuration. A bucket whose probe target is unchanged keeps its
  // slot (timer, in-flight probe, token cache); others start afresh.
  void apply(LoadedConfig loaded) {
    for (const std::string& warning : loaded.warnings) logger().warn(warning);
    std::vector<std::shared_ptr<Slot>> slots;
    std::map<std::string, std::shared_ptr<TokenCache>> caches;
    for (const Identity& identity : loaded.identities) {
      for (AddressFamily family : identity.config.families) {
        ProbeTarget target{loaded.config.registry, family, identity.credentials,
                           std::chrono::seconds(loaded.config.probe.timeout_seconds)};
        if (auto kept = findSlot(identity.config.name, target)) {
          slots.push_back(kept);
          continue;
        }
        auto& cache = caches[identity.config.name];
        if (!cache) cache = sharedTokens(identity.config.name, target);
        auto prober =
            std::make_shared<Prober>(std::move(target), cache, makeCurlHttpClient(), clock_);
        auto slot = std::make_shared<Slot>(io_, identity.config.name, family, std::move(prober));
        slots.push_back(slot);
        schedule(slot, firstProbeDelay(loaded.config.probe, unitRandom()));
      }
    }
    for (auto& old : slots_) {
      if (std::find(slots.begin(), slots.end(), old) == slots.end()) old->timer.cancel();
    }
    slots_ = std::move(slots);
    config_ = std::move(loaded.config);
    state_.configure(loaded.identities, config_);
    applySinks(std::move(loaded.alert_sinks));
  }

  // A new notifier for changed sinks. The old one may wait up to a sink's timeout for a
  // webhook in flight, so it is retired on a thread of its own, not on the probe workers.
  void applySinks(std::vector<ResolvedSink> sinks) {
    if (notifier_ && sameSinks(sinks, sinks_) &&
        notifier_queue_size_ == config_.alerts.queue_size) {
      return;
    }
    notifier_queue_size_ = config_.alerts.queue_size;
    if (notifier_) retire(std::move(notifier_));
    sinks_ = sinks;
    auto report = [this](const std::string& sink, NotificationOutcome outcome) {
      asio::post(io_, [this, sink, outcome] {
        state_.recordNotification(sink, notificationOutcomeName(outcome));
        publish();
      });
    };
    notifier_ = std::make_unique<Notifier>(std::move(sinks),
                                           static_cast<std::size_t>(config_.alerts.queue_size),
                                           NotifierOptions{}, std::move(report));
    std::vector<std::string> outcomes;
    for (NotificationOutcome outcome : kAllNotificationOutcomes) {
      outcomes.emplace_back(notificationOutcomeName(outcome));
    }
    state_.setNotificationSinks(notifier_->sinkNames(), outcomes);
  }

  void retire(std::unique_ptr<Notifier> old) {
    joinRetired(false);
    auto done = std::make_shared<std::atomic<bool>>(false);
    retiring_.push_back({std::thread([old = std::move(old), done]() mutable {
                           old.reset();
                           *done = true;
                         }),
                         done});
  }

  // Joins the retiring threads that have finished, or all of them (at shutdown, after the
  // transfers in flight were cancelled).
  void joinRetired(bool all) {
    std::erase_if(retiring_, [all](Retiring& r) {
      if (!all && !*r.done) return false;
      r.thread.join();
      return true;
    });
  }

  static bool sameSinks(const std::vector<ResolvedSink>& a, const std::vector<ResolvedSink>& b) {
    auto key = [](const ResolvedSink& sink) {
      const SinkConfig& c = sink.config;
      std::string text = std::string(sinkTypeName(c.type)) + '\n' + c.name + '\n' + sink.url +
                         '\n' + sink.hmac_secret + '\n' + std::to_string(c.timeout_seconds);
      for (const std::string& arg : c.command) text += '\n' + arg;
      return text;
    };
    return std::equal(
        a.begin(), a.end(), b.begin(), b.end(),
        [&](const ResolvedSink& x, const ResolvedSink& y) { return key(x) == key(y); });
  }

  // The stored history, pruned to what still counts, gives the forecast before the first probe.
  void restoreHistory() {
    HistoryStore::Loaded loaded = history_.load(clock_.wallNow());
    if (!loaded.warning.empty()) logger().warn(loaded.warning);
    pruneHistory(loaded.buckets, clock_.wallNow(),
                 std::chrono::seconds(config_.forecast.long_lookback_seconds));
    state_.restore(loaded.buckets, clock_.wallNow());
    if (!loaded.buckets.empty()) {
      logger().info(
          "budget history restored",
          {{"file", history_.filePath()}, {"buckets", std::to_string(loaded.buckets.size())}});
    }
  }

  // The history is written at most once per probe interval, an interval after the first
  // reading not yet written: a kill -9 loses at most the last interval, as the file promises,
  // and twenty buckets probed every ten seconds cost one write per ten seconds, not two a
  // second. SIGTERM writes what is pending.
  void scheduleHistorySave() {
    if (save_scheduled_) return;
    save_scheduled_ = true;
    save_timer_.expires_after(std::chrono::seconds(config_.probe.interval_seconds));
    save_timer_.async_wait([this](const asio::error_code& ec) {
      if (ec) return;  // shutdown: run() writes it
      saveHistory();
    });
  }

  // One save at a time, on a worker (it fsyncs).
  void saveHistory() {
    if (save_in_flight_) {
      save_pending_ = true;
      return;
    }
    save_scheduled_ = false;
    save_in_flight_ = true;
    auto buckets = std::make_shared<std::vector<StoredBucket>>(state_.histories());
    asio::post(workers_, [this, buckets] {
      std::string error = history_.save(*buckets, clock_.wallNow());
      asio::post(io_, [this, error = std::move(error)] { finishSave(error); });
    });
  }

  void saveHistoryNow() {
    const std::string error = history_.save(state_.histories(), clock_.wallNow());
    if (!error.empty()) logger().warn("cannot save the budget history", {{"error", error}});
  }

  void finishSave(const std::string& error) {
    save_in_flight_ = false;
    state_.recordStorageWrite(error.empty());
    if (!error.empty() && !save_failing_) {
      logger().warn("cannot save the budget history; it will be lost at restart",
                    {{"error", error}});
    } else if (error.empty() && save_failing_) {
      logger().info("budget history saved again", {{"file", history_.filePath()}});
    }
    save_failing_ = !error.empty();
    publish();
    if (save_pending_ && !stopping_) {
      save_pending_ = false;
      saveHistory();
    }
  }

  // A new family of an identity whose credentials did not change shares the running token,
  // so adding ipv6 on reload costs no token request.
  std::shared_ptr<TokenCache> sharedTokens(const std::string& identity,
                                           const ProbeTarget& target) const {
    for (const auto& slot : slots_) {
      ProbeTarget same_family = target;
      same_family.family = slot->prober->target().family;
      if (slot->identity == identity && sameTarget(slot->prober->target(), same_family)) {
        return slot->prober->tokens();
      }
    }
    return std::make_shared<TokenCache>();
  }

  std::shared_ptr<Slot> findSlot(const std::string& identity, const ProbeTarget& target) const {
    for (const auto& slot : slots_) {
      if (slot->identity == identity && sameTarget(slot->prober->target(), target)) return slot;
    }
    return nullptr;
  }

  void schedule(const std::shared_ptr<Slot>& slot, std::chrono::milliseconds delay) {
    slot->timer.expires_after(delay);
    slot->timer.async_wait([this, weak = std::weak_ptr<Slot>(slot)](const asio::error_code& ec) {
      auto locked = weak.lock();
      if (ec || !locked) return;  // cancelled: shutdown, or the slot left the configuration
      startProbe(locked);
    });
  }

  void startProbe(const std::shared_ptr<Slot>& slot) {
    if (slot->in_flight) return;  // at most one probe per bucket
    slot->in_flight = true;
    asio::post(workers_, [this, slot] {
      ProbeResult result = slot->prober->run();
      asio::post(io_, [this, slot, result = std::move(result)] { finishProbe(slot, result); });
    });
  }

  void finishProbe(const std::shared_ptr<Slot>& slot, const ProbeResult& result) {
    slot->in_flight = false;
    if (stopping_) return;
    const bool current = std::find(slots_.begin(), slots_.end(), slot) != slots_.end();
    if (!current) return;  // the slot left the configuration while its probe was out
    const std::uint32_t failures_before = state_.consecutiveFailures(slot->identity, slot->family);
    const RecordOutcome recorded = state_.record(slot->identity, slot->family, result);
    publish();
    logProbe(*slot, result, failures_before);
    logReading(*slot, recorded);
    if (recorded.alert && notifier_) notifier_->submit(*recorded.alert);
    if (recorded.reading) scheduleHistorySave();
    const std::uint32_t failures = state_.consecutiveFailures(slot->identity, slot->family);
    // The first retry comes after one interval; backoff doubles from the second failure on.
    schedule(slot, nextProbeDelay(config_.probe, failures > 0 ? failures - 1 : 0, unitRandom()));
  }

  void logProbe(const Slot& slot, const ProbeResult& result, std::uint32_t failures_before) {
    const std::string family(familyName(slot.family));
    const std::string outcome(outcomeName(result.outcome));
    if (!isSuccess(result.outcome)) {
      logger().warn("probe failed",
                    {{"identity", slot.identity},
                     {"family", family},
                     {"outcome", outcome},
                     {"error", result.error},
                     {"consecutive_failures", std::to_string(failures_before + 1)}});
      return;
    }
    const std::string remaining = result.quota ? std::to_string(result.quota->remaining) : "";
    const std::string limit = result.quota ? std::to_string(result.quota->limit) : "";
    if (failures_before > 0) {
      logger().info("probe recovered", {{"identity", slot.identity},
                                        {"family", family},
                                        {"outcome", outcome},
                                        {"remaining", remaining},
                                        {"limit", limit},
                                        {"source", result.source}});
    } else if (logger().enabled(LogLevel::kDebug)) {
      logger().debug("probe", {{"identity", slot.identity},
                               {"family", family},
                               {"outcome", outcome},
                               {"remaining", remaining},
                               {"limit", limit},
                               {"source", result.source},
                               {"duration_seconds", std::to_string(result.duration_seconds)}});
    }
  }

  void logReading(const Slot& slot, const RecordOutcome& recorded) {
    if (!recorded.reading) return;
    const std::string family(familyName(slot.family));
    switch (*recorded.reading) {
      case BudgetModel::Applied::kHeld:
        logger().info("full reading held until the next probe confirms it",
                      {{"identity", slot.identity}, {"family", family}});
        break;
      case BudgetModel::Applied::kDiscarded:
        logger().info("ignored a full reading the next probe contradicted",
                      {{"identity", slot.identity}, {"family", family}});
        break;
      default:
        break;
    }
  }

  void publish() { publisher_.publish(state_.snapshot()); }

  double unitRandom() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

  DaemonOptions options_;
  SystemClock clock_;
  asio::io_context io_;
  asio::thread_pool workers_;
  asio::signal_set signals_;
  asio::steady_timer watchdog_timer_;
  SystemdNotifier systemd_;
  std::mt19937_64 rng_;
  Config config_;
  State state_;
  SnapshotPublisher publisher_;
  MetricsPage metrics_page_;
  std::vector<std::shared_ptr<Slot>> slots_;
  std::unique_ptr<WebServer> web_;
  HistoryStore history_;
  asio::steady_timer save_timer_;
  bool save_scheduled_ = false;  // loop thread only, like the rest below
  bool save_in_flight_ = false;
  bool save_pending_ = false;
  bool save_failing_ = false;
  std::vector<ResolvedSink> sinks_;
  std::unique_ptr<Notifier> notifier_;
  std::int64_t notifier_queue_size_ = 0;
  struct Retiring {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Retiring> retiring_;       // notifiers replaced by a reload, shutting down
  std::uint64_t reloads_requested_ = 0;  // SIGHUPs so far; loop thread only
  bool stopping_ = false;
};

}  // namespace

int runDaemon(const DaemonOptions& options, LoadedConfig initial) {
  logger().info("starting", {{"version", kVersion}, {"revision", kRevision}});
  Daemon daemon(options, std::move(initial));
  return daemon.run();
}

}  // namespace pullguard
