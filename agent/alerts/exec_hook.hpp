// Runs an exec sink's command for one alert: no shell, a clean environment (the daemon's holds
// Docker Hub passwords), its own process group, killed whole on timeout or shutdown.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/alert_event.hpp"

namespace pullguard {

// The PATH a hook gets: the system's, never the daemon's.
inline constexpr const char* kHookPath = "/usr/local/bin:/usr/bin:/bin";

// "NAME=value" strings: PATH, LANG and the PULLGUARD_* variables docs/alerts.md lists. An
// absent number is an empty value. `event_json` is the webhook payload, for PULLGUARD_EVENT_JSON.
std::vector<std::string> execEnvironment(const AlertEvent& event, std::string_view event_json);

struct ExecResult {
  enum class Status {
    kExited,       // exit_code says how
    kSignaled,     // died of signal_number
    kTimedOut,     // killed after the timeout
    kCancelled,    // killed because the notifier stops
    kSpawnFailed,  // error says why (no such file, permission denied)
  };
  Status status = Status::kSpawnFailed;
  int exit_code = -1;
  int signal_number = 0;
  std::string output;  // the first kMaxHookOutputBytes of stdout and stderr together
  std::string error;

  bool succeeded() const { return status == Status::kExited && exit_code == 0; }
};

// Enough for an error message; the rest is read and thrown away so the hook never blocks on
// a full pipe.
inline constexpr std::size_t kMaxHookOutputBytes = 4096;

// Blocks until the command exits, `timeout` passes, or `cancel` becomes true (looked at every
// 50 ms); in the last two cases the whole process group is killed and reaped.
ExecResult runExecHook(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       std::chrono::milliseconds timeout, const std::atomic<bool>& cancel);

// One line for a log: "exit status 3", "timed out", "killed by signal 9", ...
std::string describeExecResult(const ExecResult& result);

}  // namespace pullguard
