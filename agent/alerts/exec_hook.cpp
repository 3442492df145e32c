#include "alerts/exec_hook.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "alerts/alert_payload.hpp"

namespace pullguard {
namespace {

constexpr int kPollMillis = 50;

std::string optionalInteger(const std::optional<std::int64_t>& value) {
  return value ? std::to_string(*value) : "";
}

std::string optionalNumber(const std::optional<double>& value) {
  return value ? formatNumber(*value) : "";
}

// Owns the posix_spawn attribute and file-action objects, which need explicit destruction.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // Process group 0: the child leads a new group, so a timeout kills its children too. The
  // signal mask and dispositions are reset because the daemon blocks or handles signals that a
  // hook must receive normally.
  void configure(int output_fd) {
    sigset_t empty;
    sigemptyset(&empty);
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setflags(
        &attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr_, 0);
    posix_spawnattr_setsigmask(&attr_, &empty);
    posix_spawnattr_setsigdefault(&attr_, &all);
    posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions_, output_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions_, output_fd, STDERR_FILENO);
    // Sockets and files of the daemon (the web listener, curl connections) stay with it.
    posix_spawn_file_actions_addclosefrom_np(&actions_, STDERR_FILENO + 1);
  }

  posix_spawnattr_t* attr() { return &attr_; }
  posix_spawn_file_actions_t* actions() { return &actions_; }

 private:
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

std::vector<char*> cStrings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

// Reads what is there without blocking; false at end of file.
bool drain(int fd, std::string& output) {
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      const std::size_t room = kMaxHookOutputBytes - std::min(output.size(), kMaxHookOutputBytes);
      output.append(buffer, std::min(room, static_cast<std::size_t>(n)));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

void fillExitStatus(int status, ExecResult& result) {
  if (WIFEXITED(status)) {
    result.status = ExecResult::Status::kExited;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.status = ExecResult::Status::kSignaled;
    result.signal_number = WTERMSIG(status);
  }
}

}  // namespace

std::vector<std::string> execEnvironment(const AlertEvent& event, std::string_view event_json) {
  return {
      std::string("PATH=") + kHookPath,
      "LANG=C.UTF-8",
      "PULLGUARD_EVENT_KIND=" + std::string(alertEventKindName(event.kind)),
      "PULLGUARD_LEVEL=" + std::string(alertLevelName(event.level)),
      "PULLGUARD_PREVIOUS_LEVEL=" + std::string(alertLevelName(event.previous_level)),
      "PULLGUARD_IDENTITY=" + oneLine(event.identity),
      "PULLGUARD_FAMILY=" + std::string(familyName(event.family)),
      "PULLGUARD_SOURCE=" + oneLine(event.source),
      "PULLGUARD_REMAINING=" + optionalInteger(event.remaining),
      "PULLGUARD_LIMIT=" + optionalInteger(event.limit),
      "PULLGUARD_WINDOW_SECONDS=" + optionalInteger(event.window_seconds),
      "PULLGUARD_EXHAUSTION_SECONDS=" + optionalNumber(event.exhaustion_seconds),
      "PULLGUARD_NEXT_REFILL_SECONDS=" + optionalNumber(event.next_refill_seconds),
      "PULLGUARD_REASON=" + oneLine(event.reason),
      "PULLGUARD_TIMESTAMP=" + formatAlertTimestamp(event.at),
      "PULLGUARD_EVENT_JSON=" + std::string(event_json),
  };
}

ExecResult runExecHook(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       std::chrono::milliseconds timeout, const std::atomic<bool>& cancel) {
  ExecResult result;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  SpawnSetup setup;
  setup.configure(pipe_fds[1]);
  std::vector<char*> c_argv = cStrings(argv);
  std::vector<char*> c_env = cStrings(env);
  pid_t pid = 0;
  const int spawn_error = ::posix_spawn(&pid, argv[0].c_str(), setup.actions(), setup.attr(),
                                        c_argv.data(), c_env.data());
  ::close(pipe_fds[1]);
  if (spawn_error != 0) {
    ::close(pipe_fds[0]);
    result.error = std::strerror(spawn_error);
    return result;
  }
  ::fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool pipe_open = true;
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      fillExitStatus(status, result);
      break;
    }
    const bool timed_out = std::chrono::steady_clock::now() >= deadline;
    if (timed_out || cancel.load()) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.status = timed_out ? ExecResult::Status::kTimedOut : ExecResult::Status::kCancelled;
      break;
    }
    if (pipe_open) {
      pollfd fd{pipe_fds[0], POLLIN, 0};
      ::poll(&fd, 1, kPollMillis);
      pipe_open = drain(pipe_fds[0], result.output);
    } else {
      ::poll(nullptr, 0, kPollMillis);
    }
  }
  if (pipe_open) drain(pipe_fds[0], result.output);
  ::close(pipe_fds[0]);
  return result;
}

std::string describeExecResult(const ExecResult& result) {
  switch (result.status) {
    case ExecResult::Status::kExited:
      return "exit status " + std::to_string(result.exit_code);
    case ExecResult::Status::kSignaled:
      return "killed by signal " + std::to_string(result.signal_number);
    case ExecResult::Status::kTimedOut:
      return "timed out";
    case ExecResult::Status::kCancelled:
      return "cancelled by shutdown";
    case ExecResult::Status::kSpawnFailed:
      return "could not start: " + result.error;
  }
  return "unknown";
}

}  // namespace pullguard
