#include "probe_cycle_report.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace pullguard::bench {
namespace {

std::string format(const char* pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

void row(const std::string& name, const std::string& pullguard, const std::string& baseline,
         const std::string& ratio = "") {
  std::printf("| %s | %s | %s | %s |\n", name.c_str(), pullguard.c_str(), baseline.c_str(),
              ratio.c_str());
}

// A row of one figure for both sides, scaled, with pullguard / baseline.
void ratioRow(const std::string& name, double p, double b, const char* pattern) {
  row(name, format(pattern, p), format(pattern, b), b > 0 ? format("%.2f", p / b) : "");
}

}  // namespace

void printTable(const ReportOptions& options, Figures p, Figures b) {
  const double cycles = p["measured_cycles"], n = options.identities;
  const double mib = 1024;
  std::printf("| figure | pullguard | baseline: plain libcurl | pullguard / baseline |\n");
  std::printf("|---|---:|---:|---:|\n");
  ratioRow("CPU per probe cycle (user+sys, " + format("%.0f", n) + " probes), ms",
           p["cpu_s"] / cycles * 1e3, b["cpu_s"] / cycles * 1e3, "%.3f");
  ratioRow("CPU per probe, µs", p["cpu_s"] / cycles / n * 1e6, b["cpu_s"] / cycles / n * 1e6,
           "%.1f");
  row("… user / sys, ms per cycle",
      format("%.3f", p["cpu_user_s"] / cycles * 1e3) + " / " +
          format("%.3f", p["cpu_sys_s"] / cycles * 1e3),
      format("%.3f", b["cpu_user_s"] / cycles * 1e3) + " / " +
          format("%.3f", b["cpu_sys_s"] / cycles * 1e3));
  row("… of which record + publish " + format("%.0f", n) + " snapshots, µs/cycle",
      format("%.1f", p["state_cpu_s"] / cycles * 1e6), "–");
  row("… of which render /metrics once (" + format("%.0f", p["samples"]) + " samples, " +
          format("%.0f", p["metrics_bytes"]) + " B), µs/cycle",
      format("%.1f", p["render_cpu_s"] / cycles * 1e6), "–");
  row("… … build families (Collect) / serialise (TextSerializer), µs per render",
      format("%.1f", p["collect_us"]) + " / " + format("%.1f", p["serialize_us"]), "–");
  ratioRow("RSS after warm-up (cycle " + std::to_string(options.warmup) + "), MiB",
           p["rss_warm_kib"] / mib, b["rss_warm_kib"] / mib, "%.2f");
  ratioRow("RSS after cycle " + std::to_string(options.cycles / 2) + ", MiB",
           p["rss_half_kib"] / mib, b["rss_half_kib"] / mib, "%.2f");
  ratioRow("RSS after cycle " + std::to_string(options.cycles) + ", MiB", p["rss_end_kib"] / mib,
           b["rss_end_kib"] / mib, "%.2f");
  row("RSS growth warm-up → end / half → end, KiB",
      format("%+.0f", p["rss_end_kib"] - p["rss_warm_kib"]) + " / " +
          format("%+.0f", p["rss_end_kib"] - p["rss_half_kib"]),
      format("%+.0f", b["rss_end_kib"] - b["rss_warm_kib"]) + " / " +
          format("%+.0f", b["rss_end_kib"] - b["rss_half_kib"]));
  ratioRow("peak RSS (VmHWM), MiB", p["rss_peak_kib"] / mib, b["rss_peak_kib"] / mib, "%.2f");
  row("token requests made / hub-counted (" + format("%.0f", n) + " identities)",
      format("%.0f", p["token_requests"]) + " / " + format("%.0f", p["hub_token_requests"]),
      format("%.0f", b["token_requests"]) + " / " + format("%.0f", b["hub_token_requests"]));
  ratioRow("upstream requests per probe (client-counted)", p["client_requests"] / p["probes"],
           b["client_requests"] / b["probes"], "%.4f");
  ratioRow("upstream requests per probe (hub-counted)", p["hub_requests"] / p["probes"],
           b["hub_requests"] / b["probes"], "%.4f");
  row("failed probes", format("%.0f", p["failures"]), format("%.0f", b["failures"]));
  const double pause_ms = options.pause_ms;
  ratioRow("wall time per cycle without pauses, ms (the Python hub dominates)",
           p["wall_s"] / cycles * 1e3 - pause_ms, b["wall_s"] / cycles * 1e3 - pause_ms, "%.2f");
}

void printVerdicts(const ReportOptions& options, Figures p) {
  const double cpu_ms = p["cpu_s"] / p["measured_cycles"] * 1e3;
  const double growth = p["rss_end_kib"] - p["rss_half_kib"];
  const double run_seconds = p["wall_s"] * options.cycles / p["measured_cycles"];
  const double allowed = options.identities * (std::ceil(run_seconds / options.token_ttl) + 1);
  std::printf("\nrequirements (bench process; the daemon's RSS is measured by bench/run.sh):\n");
  std::printf("  CPU per probe cycle < 1 ms (no TLS): %.3f ms: %s\n", cpu_ms,
              cpu_ms < 1 ? "met" : "NOT MET");
  std::printf("  RSS not growing (half → end within 64 KiB): %+.0f KiB: %s\n", growth,
              growth <= 64 ? "met" : "NOT MET");
  std::printf("  RSS < 8 MiB (bench process, no web server): %.2f MiB: %s\n",
              p["rss_end_kib"] / 1024, p["rss_end_kib"] < 8 * 1024 ? "met" : "NOT MET");
  std::printf(
      "  token requests <= 1 per identity per lifetime (%d s; run %.0f s, at most %.0f): %.0f: "
      "%s\n",
      options.token_ttl, run_seconds, allowed, p["token_requests"],
      p["token_requests"] <= allowed ? "met" : "NOT MET");
}

}  // namespace pullguard::bench
