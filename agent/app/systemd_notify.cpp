#include "app/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

namespace pullguard {
namespace {

// sd_notify returns 0 when NOTIFY_SOCKET is unset and a negative errno on failure; neither
// must stop the daemon, which works the same with or without systemd.
void notify(const std::string& state) { sd_notify(0, state.c_str()); }

}  // namespace

void SystemdNotifier::ready(const std::string& status) const {
  notify("READY=1\nSTATUS=" + status);
}

void SystemdNotifier::reloading() const { notify("RELOADING=1\nSTATUS=reloading configuration"); }

void SystemdNotifier::stopping() const { notify("STOPPING=1\nSTATUS=stopping"); }

void SystemdNotifier::watchdog() const { notify("WATCHDOG=1"); }

std::optional<std::chrono::microseconds> SystemdNotifier::watchdogPeriod() const {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec / 2);
}

}  // namespace pullguard
