#include "app/check_command.hpp"

#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <sstream>
#include <vector>

#include "history_file.hpp"
#include "log.hpp"
#include "probe.hpp"
#include "secret_source.hpp"
#include "state.hpp"
#include "status_report.hpp"

namespace pullguard {
namespace {

struct CheckProbe {
  const Identity* identity;
  AddressFamily family;
  std::future<ProbeResult> result;
};

// The daemon's history, if there is one to read, so a single probe still has a rate to
// forecast from. Read only: a file check cannot use is the daemon's to set aside, not ours.
std::vector<StoredBucket> readDaemonHistory(const std::string& storage_path,
                                            std::chrono::system_clock::time_point now,
                                            std::chrono::seconds keep) {
  if (storage_path.empty()) return {};
  const FileRead file = readTextFile(storage_path + "/history.json");
  if (!file.text) return {};  // no daemon here, or it has not saved yet
  HistoryParse parsed = parseHistory(*file.text);
  if (!parsed.buckets) {
    logger().warn("ignoring the daemon's budget history", {{"error", parsed.error}});
    return {};
  }
  pruneHistory(*parsed.buckets, now, keep);
  return std::move(*parsed.buckets);
}

}  // namespace

int runCheck(const LoadedConfig& loaded, const CheckOptions& options) {
  static const SystemClock clock;
  std::vector<CheckProbe> probes;
  std::string known;
  for (const Identity& identity : loaded.identities) {
    known += (known.empty() ? "" : ", ") + identity.config.name;
    if (!options.identity.empty() && identity.config.name != options.identity) continue;
    auto tokens = std::make_shared<TokenCache>();
    for (AddressFamily family : identity.config.families) {
      ProbeTarget target{loaded.config.registry, family, identity.credentials,
                         std::chrono::seconds(loaded.config.probe.timeout_seconds)};
      auto prober =
          std::make_shared<Prober>(std::move(target), tokens, makeCurlHttpClient(), clock);
      // Families of one identity share a token cache, so the first finished token is reused.
      probes.push_back(
          {&identity, family, std::async(std::launch::async, [prober] { return prober->run(); })});
    }
  }
  if (probes.empty()) {
    std::fprintf(stderr, "check: --identity %s: no such identity (configured: %s)\n",
                 options.identity.c_str(), known.c_str());
    return 64;
  }
  std::vector<Identity> probed;
  for (const Identity& identity : loaded.identities) {
    if (options.identity.empty() || identity.config.name == options.identity) {
      probed.push_back(identity);
    }
  }
  State state;
  state.configure(probed, loaded.config);
  state.restore(
      readDaemonHistory(options.storage_path, clock.wallNow(),
                        std::chrono::seconds(loaded.config.forecast.long_lookback_seconds)),
      clock.wallNow());
  for (CheckProbe& probe : probes) {
    const ProbeResult result = probe.result.get();
    if (!isSuccess(result.outcome)) {
      logger().warn("probe failed", {{"identity", probe.identity->config.name},
                                     {"family", std::string(familyName(probe.family))},
                                     {"outcome", std::string(outcomeName(result.outcome))},
                                     {"error", result.error}});
    }
    state.record(probe.identity->config.name, probe.family, result);
  }
  const std::vector<StatusEntry> entries = entriesFromSnapshot(*state.snapshot());
  const Thresholds& thresholds = loaded.config.thresholds;
  const std::string rendered =
      options.output == "json"
          ? renderStatusJson(entries, thresholds, loaded.config.forecast) + "\n"
          : renderStatusText(entries, thresholds);
  std::fwrite(rendered.data(), 1, rendered.size(), stdout);
  std::fflush(stdout);
  return static_cast<int>(overallStatus(entries, thresholds));
}

}  // namespace pullguard
