// pullguard: parse flags, load the configuration (fail fast), run the daemon or one check.
#include <malloc.h>

#include <cstdio>

#include "app/check_command.hpp"
#include "app/daemon.hpp"
#include "cli.hpp"
#include "config_loader.hpp"
#include "log.hpp"
#include "web_server.hpp"

int main(int argc, char** argv) {
  using namespace pullguard;
  // glibc gives threads their own malloc arenas (up to 8 per core); a daemon this small does
  // better with two, which keeps resident memory flat after the web threads first render.
  mallopt(M_ARENA_MAX, 2);
  const CliResult cli = parseCommandLine(argc, argv);
  if (!cli.command_line) return cli.exit_code;
  const CommandLine& line = *cli.command_line;
  logger().configure(*parseLogLevel(line.log_level), *parseLogFormat(line.log_format));

  LoadResult loaded = loadConfig(line.config_file);
  if (!loaded.loaded) {
    std::fprintf(stderr, "%s\n", loaded.error.c_str());
    return kExitConfig;
  }
  // Checked before anything starts, so a bad address is a configuration or usage error.
  if (!line.listen_address.empty()) {
    if (auto problem = listenAddressProblem(line.listen_address)) {
      std::fprintf(stderr, "pullguard: --web.listen-address: %s\n", problem->c_str());
      return kExitUsage;
    }
  } else if (auto problem = listenAddressProblem(loaded.loaded->config.web.listen_address)) {
    std::fprintf(stderr, "config: web.listen_address: %s\n", problem->c_str());
    return kExitConfig;
  }
  if (line.config_check) {
    for (const std::string& warning : loaded.loaded->warnings) {
      std::fprintf(stderr, "warning: %s\n", warning.c_str());
    }
    std::printf("config: OK (%zu identities)\n", loaded.loaded->identities.size());
    return 0;
  }
  if (line.command == "check") {
    return runCheck(*loaded.loaded, {line.check_output, line.check_identity, line.storage_path});
  }
  return runDaemon({line.config_file, line.listen_address, line.storage_path},
                   std::move(*loaded.loaded));
}
