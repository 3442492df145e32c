// Measuring helpers for the benchmarks: the process's own CPU time and memory, the fake hub's
// request counters, and running a measured workload in a fresh child process.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pullguard::bench {

// CPU seconds of the whole process (every thread), from getrusage(RUSAGE_SELF).
struct CpuTimes {
  double user = 0;
  double sys = 0;
};
CpuTimes processCpu();

// CPU seconds of the calling thread (CLOCK_THREAD_CPUTIME_ID).
double threadCpuSeconds();

// A "Vm..." line of /proc/self/status ("VmRSS", "VmHWM") in KiB; -1 when absent.
long statusKib(const char* field);

// Monotonic seconds, for wall-time figures only.
double wallSeconds();

// The fake hub's counters, from GET <hub>/_control/stats.
struct HubCounts {
  long requests = 0;  // every request but the control API's
  long token_requests = 0;
  std::map<std::string, long> tokens_by_identity;  // "anonymous" or the user name
};
std::optional<HubCounts> hubCounts(const std::string& hub_url);

// Named numbers a child reports on one stdout line: "figures name=value name=value ...".
using Figures = std::map<std::string, double>;
void printFigures(const Figures& figures);

// Runs `argv` (argv[0] is the program path) with stdout on a pipe and returns the figures it
// printed; nullopt, with the reason on stderr, when it failed.
std::optional<Figures> runChild(const std::vector<std::string>& argv);

// The median of each figure over several runs.
Figures medianFigures(const std::vector<Figures>& runs);

}  // namespace pullguard::bench
