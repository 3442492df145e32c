// Probe-cycle benchmark: the daemon's per-cycle work (probe every bucket, record, publish a
// snapshot, render /metrics) run back to back against a fake hub, beside plain libcurl HEADs.
#include <curl/curl.h>
#include <prometheus/text_serializer.h>
#include <strings.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "challenge.hpp"
#include "config_loader.hpp"
#include "probe.hpp"
#include "probe_cycle_report.hpp"
#include "prometheus/collector.hpp"
#include "state.hpp"
#include "token.hpp"

namespace pullguard::bench {
namespace {

struct Options {
  std::string program;
  std::string registry_url;
  std::string mode = "both";  // both: run the two children and print the table
  int identities = 10;
  int cycles = 1000;
  int warmup = 10;
  int rounds = 1;
  int token_ttl = 300;             // the hub's, for the token verdict only
  int pause_ms = 0;                // sleep between cycles: caches and CPU go cold, as in the daemon
  std::vector<std::string> users;  // NAME:PASSWORD of fake-hub accounts
};

constexpr const char* kRepository = "ratelimitpreview/test";

// Half the identities anonymous, the other half authenticated, each with its own account
// when enough --user accounts are given (so the hub counts tokens per account).
std::vector<Identity> makeIdentities(const Options& options) {
  std::vector<Identity> identities;
  const int anonymous =
      options.users.empty() ? options.identities : options.identities / 2 + options.identities % 2;
  for (int i = 0; i < options.identities; ++i) {
    Identity identity;
    if (i < anonymous) {
      identity.config.name = "anonymous-" + std::to_string(i + 1);
    } else {
      const std::string& user = options.users[(i - anonymous) % options.users.size()];
      const auto colon = user.find(':');
      identity.config.name = "user-" + std::to_string(i - anonymous + 1);
      identity.config.username = user.substr(0, colon);
      identity.credentials = BasicCredentials{user.substr(0, colon), user.substr(colon + 1)};
    }
    identities.push_back(std::move(identity));
  }
  return identities;
}

// Counts the requests a prober sends, to report upstream requests per probe.
class CountingHttpClient final : public HttpClient {
 public:
  CountingHttpClient(std::unique_ptr<HttpClient> inner, long& count)
      : inner_(std::move(inner)), count_(count) {}
  HttpResponse perform(const HttpRequest& request) override {
    ++count_;
    return inner_->perform(request);
  }

 private:
  std::unique_ptr<HttpClient> inner_;
  long& count_;
};

// Runs `cycle` options.cycles times and measures around it: CPU from the end of the warm-up
// to the end, RSS after the warm-up, at half-time and at the end.
template <typename Cycle>
Figures measureCycles(const Options& options, Figures figures, Cycle&& cycle) {
  CpuTimes cpu_start;
  double wall_start = 0;
  for (int i = 1; i <= options.cycles; ++i) {
    cycle();
    if (options.pause_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(options.pause_ms));
    }
    if (i == options.warmup) {
      figures["rss_warm_kib"] = static_cast<double>(statusKib("VmRSS"));
      cpu_start = processCpu();
      wall_start = wallSeconds();
    }
    if (i == options.cycles / 2) figures["rss_half_kib"] = static_cast<double>(statusKib("VmRSS"));
  }
  const CpuTimes cpu_end = processCpu();
  figures["cpu_user_s"] = cpu_end.user - cpu_start.user;
  figures["cpu_sys_s"] = cpu_end.sys - cpu_start.sys;
  figures["cpu_s"] = figures["cpu_user_s"] + figures["cpu_sys_s"];
  figures["wall_s"] = wallSeconds() - wall_start;
  figures["measured_cycles"] = options.cycles - options.warmup;
  figures["rss_end_kib"] = static_cast<double>(statusKib("VmRSS"));
  figures["rss_peak_kib"] = static_cast<double>(statusKib("VmHWM"));
  return figures;
}

// Where a render goes, timed apart after the cycles: building the metric families from the
// snapshot (Collect) and serialising them to text.
void renderSplit(const SnapshotCollector& collector, Figures& figures) {
  constexpr int kRuns = 200;
  std::vector<prometheus::MetricFamily> families;
  const double t0 = threadCpuSeconds();
  for (int i = 0; i < kRuns; ++i) families = collector.Collect();
  const double t1 = threadCpuSeconds();
  double bytes = 0;
  for (int i = 0; i < kRuns; ++i) {
    bytes += static_cast<double>(prometheus::TextSerializer().Serialize(families).size());
  }
  figures["collect_us"] = (t1 - t0) / kRuns * 1e6;
  figures["serialize_us"] = (threadCpuSeconds() - t1) / kRuns * 1e6;
  double samples = 0;
  for (const auto& family : families) samples += static_cast<double>(family.metric.size());
  figures["samples"] = samples;
  figures["serialized_bytes"] = bytes / kRuns;
}

// What the daemon builds per bucket and does per cycle, without the timers and the pool.
Figures runPullguard(const Options& options) {
  const std::vector<Identity> identities = makeIdentities(options);
  SystemClock clock;
  State state;
  state.configure(identities, Config{});
  SnapshotPublisher publisher;
  publisher.publish(state.snapshot());
  SnapshotCollector collector(publisher);
  long requests = 0;
  std::vector<std::unique_ptr<Prober>> probers;
  for (const Identity& identity : identities) {
    RegistryConfig registry;
    registry.url = options.registry_url;
    ProbeTarget target{registry, AddressFamily::kAny, identity.credentials};
    probers.push_back(std::make_unique<Prober>(
        std::move(target), std::make_shared<TokenCache>(),
        std::make_unique<CountingHttpClient>(makeCurlHttpClient(), requests), clock));
  }
  double token_requests = 0, failures = 0, state_cpu = 0, render_cpu = 0, metrics_bytes = 0;
  std::vector<ProbeResult> results(probers.size());
  Figures figures = measureCycles(options, {}, [&] {
    for (size_t i = 0; i < probers.size(); ++i) results[i] = probers[i]->run();
    const double t0 = threadCpuSeconds();
    for (size_t i = 0; i < probers.size(); ++i) {  // the daemon publishes after every probe
      token_requests += static_cast<double>(results[i].token_requests.size());
      if (!isSuccess(results[i].outcome)) ++failures;
      state.record(identities[i].config.name, AddressFamily::kAny, results[i]);
      publisher.publish(state.snapshot());
    }
    const double t1 = threadCpuSeconds();
    metrics_bytes = static_cast<double>(renderPrometheusText(collector).size());  // one scrape
    state_cpu += t1 - t0;
    render_cpu += threadCpuSeconds() - t1;
  });
  figures["probes"] = static_cast<double>(options.cycles) * options.identities;
  figures["failures"] = failures;
  figures["token_requests"] = token_requests;
  figures["client_requests"] = static_cast<double>(requests);
  figures["state_cpu_s"] = state_cpu * (options.cycles - options.warmup) / options.cycles;
  figures["render_cpu_s"] = render_cpu * (options.cycles - options.warmup) / options.cycles;
  figures["metrics_bytes"] = metrics_bytes;
  renderSplit(collector, figures);
  return figures;
}

size_t ignoreBytes(char*, size_t size, size_t count, void*) { return size * count; }

size_t keepChallenge(char* data, size_t size, size_t count, void* user) {
  const std::string line(data, size * count);
  if (line.size() > 17 && strncasecmp(line.c_str(), "www-authenticate:", 17) == 0) {
    std::string value = line.substr(17);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    *static_cast<std::string*>(user) = value;
  }
  return size * count;
}

size_t appendBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// Setup, not measured: a 401 for the challenge, then one token. Returns "" on failure.
std::string fetchBaselineToken(CURL* handle, const std::string& manifest_url,
                               const std::optional<BasicCredentials>& credentials) {
  std::string challenge_header, body;
  curl_easy_setopt(handle, CURLOPT_URL, manifest_url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, keepChallenge);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &challenge_header);
  if (curl_easy_perform(handle) != CURLE_OK) return "";
  const auto challenge = parseBearerChallenge(challenge_header);
  if (!challenge.challenge) return "";
  const std::string token_url =
      buildTokenUrl(*challenge.challenge, std::string("repository:") + kRepository + ":pull");
  curl_easy_setopt(handle, CURLOPT_URL, token_url.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, ignoreBytes);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body);
  if (credentials) {
    curl_easy_setopt(handle, CURLOPT_USERNAME, credentials->username.c_str());
    curl_easy_setopt(handle, CURLOPT_PASSWORD, credentials->password.c_str());
  }
  if (curl_easy_perform(handle) != CURLE_OK) return "";
  const auto parsed = parseTokenResponse(body);
  return parsed.value ? parsed.value->token : "";
}

// Equal HTTP work minus pullguard: one easy handle per identity, its token fetched once, one
// HEAD per identity per cycle with the options set once; headers are received and dropped.
Figures runBaseline(const Options& options) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const std::vector<Identity> identities = makeIdentities(options);
  const std::string manifest_url =
      options.registry_url + "/v2/" + kRepository + "/manifests/latest";
  std::vector<CURL*> handles;
  std::vector<curl_slist*> header_lists;
  double token_requests = 0, requests = 0, failures = 0;
  for (const Identity& identity : identities) {
    CURL* handle = curl_easy_init();
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, 10'000L);
    curl_easy_setopt(handle, CURLOPT_USERAGENT, "pullguard-bench-baseline");
    const std::string token = fetchBaselineToken(handle, manifest_url, identity.credentials);
    token_requests += 1;
    requests += 2;
    if (token.empty())
      std::fprintf(stderr, "baseline: no token for %s\n", identity.config.name.c_str());
    curl_slist* headers = curl_slist_append(nullptr, kManifestAccept);
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
    curl_easy_setopt(handle, CURLOPT_URL, manifest_url.c_str());
    curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, ignoreBytes);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, ignoreBytes);  // the token body is gone
    curl_easy_setopt(handle, CURLOPT_USERNAME, nullptr);
    curl_easy_setopt(handle, CURLOPT_PASSWORD, nullptr);
    handles.push_back(handle);
    header_lists.push_back(headers);
  }
  Figures figures = measureCycles(options, {}, [&] {
    for (CURL* handle : handles) {
      long status = 0;
      const CURLcode code = curl_easy_perform(handle);
      curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
      if (code != CURLE_OK || status != 200) ++failures;
      requests += 1;
    }
  });
  for (CURL* handle : handles) curl_easy_cleanup(handle);
  for (curl_slist* headers : header_lists) curl_slist_free_all(headers);
  figures["probes"] = static_cast<double>(options.cycles) * options.identities;
  figures["failures"] = failures;
  figures["token_requests"] = token_requests;
  figures["client_requests"] = requests;
  return figures;
}

void usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--identities N] [--cycles C] [--warmup W] [--rounds R]\n"
               "          [--pause-ms MS] [--user NAME:PASSWORD]... [--token-ttl S] REGISTRY_URL\n"
               "Runs C probe cycles of N identities (half anonymous, half --user accounts)\n"
               "against a fake hub, as pullguard and as a plain-libcurl baseline, each in a\n"
               "fresh child process (R rounds, alternating; medians), and prints a table.\n",
               program);
}

std::optional<Options> parseOptions(int argc, char** argv) {
  Options options;
  options.program = "/proc/self/exe";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    auto number = [&](int& out, int minimum) {
      out = has_value ? std::atoi(argv[++i]) : 0;
      return out >= minimum;
    };
    bool ok = true;
    if (arg == "--identities") {
      ok = number(options.identities, 1);
    } else if (arg == "--cycles") {
      ok = number(options.cycles, 2);
    } else if (arg == "--warmup") {
      ok = number(options.warmup, 1);
    } else if (arg == "--rounds") {
      ok = number(options.rounds, 1);
    } else if (arg == "--pause-ms") {
      ok = number(options.pause_ms, 0);
    } else if (arg == "--token-ttl") {
      ok = number(options.token_ttl, 1);
    } else if (arg == "--user" && has_value) {
      options.users.push_back(argv[++i]);
      ok = options.users.back().find(':') != std::string::npos;
    } else if (arg == "--mode" && has_value) {
      options.mode = argv[++i];
    } else if (!arg.starts_with("--") && options.registry_url.empty()) {
      options.registry_url = arg;
    } else {
      ok = false;
    }
    if (!ok) return std::nullopt;
  }
  while (options.registry_url.ends_with('/')) options.registry_url.pop_back();
  if (options.registry_url.empty() || options.cycles < 2 * options.warmup) return std::nullopt;
  return options;
}

std::vector<std::string> childArgv(const Options& options, const std::string& mode) {
  std::vector<std::string> argv = {options.program,
                                   "--mode",
                                   mode,
                                   "--identities",
                                   std::to_string(options.identities),
                                   "--cycles",
                                   std::to_string(options.cycles),
                                   "--warmup",
                                   std::to_string(options.warmup),
                                   "--pause-ms",
                                   std::to_string(options.pause_ms)};
  for (const auto& user : options.users) argv.insert(argv.end(), {"--user", user});
  argv.push_back(options.registry_url);
  return argv;
}

// One child run of `mode`, with the hub's own count of what it received meanwhile.
std::optional<Figures> runMeasured(const Options& options, const std::string& mode) {
  const auto before = hubCounts(options.registry_url);
  auto figures = runChild(childArgv(options, mode));
  const auto after = hubCounts(options.registry_url);
  if (!figures || !before || !after) return std::nullopt;
  (*figures)["hub_requests"] = static_cast<double>(after->requests - before->requests);
  (*figures)["hub_token_requests"] =
      static_cast<double>(after->token_requests - before->token_requests);
  return figures;
}

int runBoth(const Options& options) {
  std::vector<Figures> pullguard, baseline;
  for (int round = 0; round < options.rounds; ++round) {
    auto b = runMeasured(options, "baseline");
    auto p = runMeasured(options, "pullguard");
    if (!b || !p) return 1;
    baseline.push_back(*b);
    pullguard.push_back(*p);
  }
  const int anonymous =
      options.users.empty() ? options.identities : options.identities / 2 + options.identities % 2;
  std::printf(
      "%d identities (%d anonymous, %d authenticated), %d cycles (%d warm-up, %d ms pauses), "
      "%d round(s), medians; registry %s\n\n",
      options.identities, anonymous, options.identities - anonymous, options.cycles, options.warmup,
      options.pause_ms, options.rounds, options.registry_url.c_str());
  const ReportOptions report{options.identities, options.cycles, options.warmup, options.pause_ms,
                             options.token_ttl};
  printTable(report, medianFigures(pullguard), medianFigures(baseline));
  printVerdicts(report, medianFigures(pullguard));
  return 0;
}

}  // namespace
}  // namespace pullguard::bench

int main(int argc, char** argv) {
  using namespace pullguard::bench;
  const auto options = parseOptions(argc, argv);
  if (!options) {
    usage(argv[0]);
    return 2;
  }
  if (options->mode == "pullguard") {
    printFigures(runPullguard(*options));
  } else if (options->mode == "baseline") {
    printFigures(runBaseline(*options));
  } else if (options->mode == "both") {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return runBoth(*options);
  } else {
    usage(argv[0]);
    return 2;
  }
  return 0;
}
