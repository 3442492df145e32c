#include "app/check_command.hpp"

#include <cstdio>
#include <future>
#include <memory>
#include <vector>

#include "log.hpp"
#include "probe.hpp"
#include "status_report.hpp"

namespace pullguard {
namespace {

struct CheckProbe {
  const Identity* identity;
  AddressFamily family;
  std::future<ProbeResult> result;
};

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
  std::vector<StatusEntry> entries;
  for (CheckProbe& probe : probes) {
    const ProbeResult result = probe.result.get();
    if (!isSuccess(result.outcome)) {
      logger().warn("probe failed", {{"identity", probe.identity->config.name},
                                     {"family", std::string(familyName(probe.family))},
                                     {"outcome", std::string(outcomeName(result.outcome))},
                                     {"error", result.error}});
    }
    entries.push_back(entryFromProbe(probe.identity->config.name, probe.family, result));
  }
  const Thresholds& thresholds = loaded.config.thresholds;
  const std::string rendered = options.output == "json"
                                   ? renderStatusJson(entries, thresholds) + "\n"
                                   : renderStatusText(entries, thresholds);
  std::fwrite(rendered.data(), 1, rendered.size(), stdout);
  std::fflush(stdout);
  return static_cast<int>(overallStatus(entries, thresholds));
}

}  // namespace pullguard
