// The probe-cycle bench's output: one Markdown table of pullguard beside the plain-libcurl
// baseline, and the requirement lines, from the figures the two child runs reported.
#pragma once

#include "bench_support.hpp"

namespace pullguard::bench {

struct ReportOptions {
  int identities = 10;
  int cycles = 1000;
  int warmup = 10;
  int pause_ms = 0;
  int token_ttl = 300;
};

void printTable(const ReportOptions& options, Figures pullguard, Figures baseline);
void printVerdicts(const ReportOptions& options, Figures pullguard);

}  // namespace pullguard::bench
