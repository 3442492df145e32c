// Command-line flags (CLI11), named after the Prometheus exporters' conventions.
#pragma once

#include <optional>
#include <string>

namespace pullguard {

// sysexits: a bad command line, and a bad configuration.
inline constexpr int kExitUsage = 64;
inline constexpr int kExitConfig = 78;

struct CommandLine {
  std::string command = "run";  // run or check
  std::string config_file;
  bool config_check = false;
  std::string listen_address;
  std::string storage_path;  // empty: defaultStoragePath()
  std::string log_level = "info";
  std::string log_format = "logfmt";
  std::string check_output = "text";
  std::string check_identity;
};

struct CliResult {
  std::optional<CommandLine> command_line;  // empty: exit with exit_code
  int exit_code = 0;
};

// $STATE_DIRECTORY (set by systemd's StateDirectory=) or /var/lib/pullguard.
std::string defaultStoragePath();

// Parses argv; prints help, version or a usage error itself.
CliResult parseCommandLine(int argc, char** argv);

}  // namespace pullguard
