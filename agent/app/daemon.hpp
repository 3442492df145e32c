// The daemon's wiring: the Asio event loop that owns the state, the probe slots and their
// timers, the worker pool that runs the blocking probes, the signals and the web server.
#pragma once

#include <string>

#include "config_loader.hpp"

namespace pullguard {

struct DaemonOptions {
  std::string config_path;     // empty: the built-in default; reread on SIGHUP
  std::string listen_address;  // --web.listen-address; empty: the config's web.listen_address
  std::string storage_path;    // --storage.path: where the budget history is kept
};

// Runs until SIGTERM or SIGINT; returns the process exit code.
int runDaemon(const DaemonOptions& options, LoadedConfig initial);

}  // namespace pullguard
