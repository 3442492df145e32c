#include "cli.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "version.hpp"

namespace pullguard {

std::string defaultStoragePath() {
  const char* state_directory = std::getenv("STATE_DIRECTORY");
  if (state_directory == nullptr || *state_directory == '\0') return "/var/lib/pullguard";
  // systemd joins several StateDirectory= entries with ':'; the first one is ours.
  std::string first(state_directory);
  return first.substr(0, first.find(':'));
}

CliResult parseCommandLine(int argc, char** argv) {
  CommandLine line;
  CLI::App app{
      "pullguard: watches Docker Hub's pull rate limit for every identity this host pulls "
      "with, and serves it to Prometheus.",
      "pullguard"};
  app.fallthrough();  // global flags may follow the subcommand
  app.add_option("--config.file", line.config_file,
                 "JSON configuration file (default: built-in, one anonymous identity)");
  app.add_flag("--config.check", line.config_check,
               "Validate the configuration and its secrets, then exit (0 valid, 78 invalid)");
  app.add_option("--web.listen-address", line.listen_address,
                 "Address for /metrics and the API (overrides web.listen_address)");
  app.add_option("--storage.path", line.storage_path,
                 "Directory for the budget history (default: $STATE_DIRECTORY, else "
                 "/var/lib/pullguard)");
  app.add_option("--log.level", line.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--log.format", line.log_format, "logfmt or json")
      ->check(CLI::IsMember({"logfmt", "json"}));
  bool version = false;
  app.add_flag("--version", version, "Print the version and exit");

  app.add_subcommand("run", "Run the daemon (the default)");
  CLI::App* check = app.add_subcommand(
      "check", "Probe once, print the budget, exit 0 ok, 1 warning, 2 critical, 3 unknown");
  check->add_option("--output", line.check_output, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  check->add_option("--identity", line.check_identity, "Probe only this identity");
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return {std::nullopt, app.exit(help)};
  } catch (const CLI::ParseError& error) {
    std::fprintf(stderr, "pullguard: %s\nRun 'pullguard --help' for usage.\n", error.what());
    return {std::nullopt, kExitUsage};
  }
  if (version) {
    std::printf("pullguard %s (revision %s)\n", kVersion, kRevision);
    return {std::nullopt, 0};
  }
  if (check->parsed()) line.command = "check";
  if (line.storage_path.empty()) line.storage_path = defaultStoragePath();
  return {line, 0};
}

}  // namespace pullguard
