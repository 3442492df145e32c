#include "bench_support.hpp"

#include <curl/curl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace pullguard::bench {
namespace {

double seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

size_t appendBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::optional<std::string> httpGet(const std::string& url) {
  CURL* handle = curl_easy_init();
  if (handle == nullptr) return std::nullopt;
  std::string body;
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, appendBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body);
  const CURLcode code = curl_easy_perform(handle);
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(handle);
  if (code != CURLE_OK || status != 200) return std::nullopt;
  return body;
}

std::optional<Figures> parseFigures(const std::string& output) {
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with("figures ")) continue;
    Figures figures;
    std::istringstream words(line.substr(8));
    std::string word;
    while (words >> word) {
      const auto equals = word.find('=');
      if (equals == std::string::npos) return std::nullopt;
      figures[word.substr(0, equals)] = std::strtod(word.c_str() + equals + 1, nullptr);
    }
    return figures;
  }
  return std::nullopt;
}

}  // namespace

CpuTimes processCpu() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return {seconds(usage.ru_utime), seconds(usage.ru_stime)};
}

double threadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

long statusKib(const char* field) {
  std::ifstream status("/proc/self/status");
  const std::string prefix = std::string(field) + ":";
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(prefix)) return std::strtol(line.c_str() + prefix.size(), nullptr, 10);
  }
  return -1;
}

double wallSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::optional<HubCounts> hubCounts(const std::string& hub_url) {
  const auto body = httpGet(hub_url + "/_control/stats");
  if (!body) return std::nullopt;
  const auto stats = nlohmann::json::parse(*body, nullptr, false);
  if (stats.is_discarded() || !stats.is_object()) return std::nullopt;
  HubCounts counts;
  if (const auto requests = stats.find("requests"); requests != stats.end()) {
    for (const auto& [key, value] : requests->items()) {
      if (key.ends_with(" control") || !value.is_number()) continue;
      counts.requests += value.get<long>();
      if (key.ends_with(" token")) counts.token_requests += value.get<long>();
    }
  }
  if (const auto tokens = stats.find("tokens"); tokens != stats.end()) {
    for (const auto& [identity, outcomes] : tokens->items()) {
      counts.tokens_by_identity[identity] = outcomes.value("ok", 0L);
    }
  }
  return counts;
}

void printFigures(const Figures& figures) {
  std::printf("figures");
  for (const auto& [name, value] : figures) std::printf(" %s=%.9g", name.c_str(), value);
  std::printf("\n");
  std::fflush(stdout);
}

std::optional<Figures> runChild(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe(fds) != 0) return std::nullopt;
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  std::string output;
  char buffer[4096];
  for (;;) {  // ends at EOF: the child exited or closed stdout
    const ssize_t got = read(fds[0], buffer, sizeof buffer);
    if (got > 0) {
      output.append(buffer, static_cast<size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench child %s failed (status %d)\n", argv[0].c_str(), status);
    return std::nullopt;
  }
  return parseFigures(output);
}

Figures medianFigures(const std::vector<Figures>& runs) {
  Figures median;
  if (runs.empty()) return median;
  for (const auto& [name, ignored] : runs.front()) {
    std::vector<double> values;
    for (const Figures& run : runs) {
      if (auto found = run.find(name); found != run.end()) values.push_back(found->second);
    }
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    median[name] = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  }
  return median;
}

}  // namespace pullguard::bench
