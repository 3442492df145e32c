// Placeholder until the alerts sinks land: the default log sink, no secrets.
#include "alerts/alerts_config.hpp"

#include "config_reader.hpp"

namespace pullguard {

void readAlertsConfig(ObjectReader& root, AlertsConfig& alerts) {
  (void)root.find("alerts");
  alerts.sinks = {SinkConfig{.type = SinkType::kLog, .name = "log"}};
}

ResolveSinksResult resolveAlertSinks(const AlertsConfig& alerts) {
  ResolveSinksResult result;
  for (const SinkConfig& sink : alerts.sinks) result.sinks.push_back({sink, "", ""});
  return result;
}

}  // namespace pullguard
