// `pullguard check`: probes every configured bucket once, in parallel, prints the answer as a
// table or JSON, and exits with the Nagios-style status code.
#pragma once

#include <string>

#include "config_loader.hpp"

namespace pullguard {

struct CheckOptions {
  std::string output = "text";  // text or json
  std::string identity;         // empty: every identity
  std::string storage_path;     // the daemon's history, read (never written) for the forecast
};

// Returns the exit code: 0 ok, 1 warning, 2 critical, 3 unknown; 64 for an unknown identity.
int runCheck(const LoadedConfig& loaded, const CheckOptions& options);

}  // namespace pullguard
