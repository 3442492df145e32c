// Talks to systemd for a Type=notify unit: readiness, reload and stop notices, and watchdog
// keep-alives sent from the event loop, so a wedged loop gets the service restarted. Without
// NOTIFY_SOCKET (not under systemd) every call does nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace pullguard {

class SystemdNotifier {
 public:
  void ready(const std::string& status) const;
  void reloading() const;
  void stopping() const;
  void watchdog() const;

  // How often to send watchdog(): half of WatchdogSec, or nullopt when the unit has none.
  std::optional<std::chrono::microseconds> watchdogPeriod() const;
};

}  // namespace pullguard
