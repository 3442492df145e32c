// The Notifier for real: webhooks and Slack against a small HTTP server on 127.0.0.1, exec
// hooks as /bin/sh scripts in a temporary directory, and a fake client where timing matters.
#include "alerts/notifier.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "alerts/alert_payload.hpp"
#include "alerts/sink_delivery.hpp"
#include "version.hpp"

namespace pullguard {
namespace {

using namespace std::chrono_literals;

struct ReceivedRequest {
  std::string head;  // request line and headers
  std::string body;
};

// Answers each connection with the next scripted status (then 200), one request per connection.
class TestHttpServer {
 public:
  explicit TestHttpServer(std::vector<int> statuses = {}) : statuses_(std::move(statuses)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~TestHttpServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook/SECRET"; }

  std::vector<ReceivedRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void run() {
    while (!stop_) {
      pollfd fd{listener_, POLLIN, 0};
      if (::poll(&fd, 1, 20) <= 0) continue;
      const int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) continue;
      serve(connection);
      ::close(connection);
    }
  }

  void serve(int connection) {
    std::string data;
    char buffer[4096];
    std::size_t header_end = std::string::npos;
    std::size_t content_length = 0;
    while (true) {
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          const auto pos = data.find("Content-Length: ");
          if (pos != std::string::npos && pos < header_end) {
            content_length = std::stoul(data.substr(pos + 16));
          }
        }
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) {
        break;
      }
      const ssize_t n = ::recv(connection, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      data.append(buffer, static_cast<std::size_t>(n));
    }
    int status = 200;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back({data.substr(0, header_end), data.substr(header_end + 4)});
      if (next_ < statuses_.size()) status = statuses_[next_++];
    }
    const std::string reply = "HTTP/1.1 " + std::to_string(status) +
                              " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    ::send(connection, reply.data(), reply.size(), MSG_NOSIGNAL);
  }

  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<ReceivedRequest> requests_;
  std::vector<int> statuses_;
  std::size_t next_ = 0;
  std::thread thread_;
};

// Collects the notifier's reports across threads.
class Reports {
 public:
  NotificationReport callback() {
    return [this](const std::string& sink, NotificationOutcome outcome) {
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(sink + ":" + std::string(notificationOutcomeName(outcome)));
      }
      changed_.notify_all();
    };
  }
  std::vector<std::string> waitFor(std::size_t count, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, timeout, [&] { return seen_.size() >= count; });
    return seen_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> seen_;
};

AlertEvent event(std::string identity = "anonymous") {
  AlertEvent e;
  e.kind = AlertEventKind::kFiring;
  e.level = AlertLevel::kWarning;
  e.identity = std::move(identity);
  e.source = "203.0.113.7";
  e.remaining = 18;
  e.limit = 100;
  e.reason = "18 of 100 pulls left";
  e.at = std::chrono::system_clock::time_point(std::chrono::seconds(1795870800));
  return e;
}

NotifierOptions fastOptions(int max_attempts = 4) {
  NotifierOptions options;
  options.max_attempts = max_attempts;
  options.first_backoff = 10ms;
  options.max_backoff = 40ms;
  options.hostname = "test-host";
  return options;
}

ResolvedSink webhook(const std::string& url, const std::string& key = "") {
  ResolvedSink sink;
  sink.config.type = SinkType::kWebhook;
  sink.config.name = "ops";
  sink.config.timeout_seconds = 5;
  sink.url = url;
  sink.hmac_secret = key;
  return sink;
}

bool hasHeader(const std::string& head, const std::string& line) {
  return head.find("\r\n" + line + "\r\n") != std::string::npos;
}

TEST(RetryDelay, DoublesIsCappedAndJittered) {
  NotifierOptions options;  // 1 s doubling to 30 s
  EXPECT_EQ(retryDelay(1, options, 0), 1000ms);
  EXPECT_EQ(retryDelay(2, options, 0), 2000ms);
  EXPECT_EQ(retryDelay(3, options, 0), 4000ms);
  EXPECT_EQ(retryDelay(6, options, 0), 30000ms);
  EXPECT_EQ(retryDelay(60, options, 0), 30000ms);
  EXPECT_EQ(retryDelay(1, options, 1), 1200ms);
  EXPECT_EQ(retryDelay(2, options, -1), 1600ms);
  EXPECT_EQ(retryDelay(6, options, 1), 30000ms);  // jitter never passes the cap
}

TEST(NotificationOutcome, Names) {
  std::vector<std::string> names;
  for (NotificationOutcome outcome : kAllNotificationOutcomes) {
    names.emplace_back(notificationOutcomeName(outcome));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"success", "retry", "failure", "dropped"}));
}

TEST(ClassifyHttpResponse, StatusesAndTransportErrors) {
  using V = DeliveryResult::Verdict;
  const std::string url = "https://hooks.invalid/services/T0/B0/SECRET";
  auto verdict = [&](long status) { return classifyHttpResponse({.status = status}, url).verdict; };
  EXPECT_EQ(verdict(200), V::kDelivered);
  EXPECT_EQ(verdict(204), V::kDelivered);
  EXPECT_EQ(verdict(429), V::kRetry);
  EXPECT_EQ(verdict(500), V::kRetry);
  EXPECT_EQ(verdict(503), V::kRetry);
  EXPECT_EQ(verdict(400), V::kGiveUp);
  EXPECT_EQ(verdict(404), V::kGiveUp);
  EXPECT_EQ(verdict(301), V::kGiveUp);
  const DeliveryResult timeout = classifyHttpResponse(
      {.error = TransportError::kTimeout,
       .error_message = "Operation timed out for " + url + " and /services/T0/B0/SECRET"},
      url);
  EXPECT_EQ(timeout.verdict, V::kRetry);
  EXPECT_EQ(timeout.detail, "timeout: Operation timed out for <url> and <path>");
}

TEST(Notifier, LogSinkIsWrittenInlineAndNamesKeepTheirOrder) {
  Reports reports;
  std::vector<ResolvedSink> sinks(2);
  sinks[0].config = {.type = SinkType::kLog, .name = "log"};
  sinks[1] = webhook("http://127.0.0.1:1/");
  Notifier notifier(sinks, 4, fastOptions(), reports.callback());
  EXPECT_EQ(notifier.sinkNames(), (std::vector<std::string>{"log", "ops"}));
  ResolvedSink only_log = sinks[0];
  Notifier log_only({only_log}, 4, fastOptions(), reports.callback());
  log_only.submit(event());
  EXPECT_EQ(reports.waitFor(1, 0ms), (std::vector<std::string>{"log:success"}));
}

TEST(Notifier, WebhookGetsTheSignedPayloadOnce) {
  TestHttpServer server;
  Reports reports;
  Notifier notifier({webhook(server.url(), "k3y")}, 4, fastOptions(), reports.callback());
  notifier.submit(event());
  EXPECT_EQ(reports.waitFor(1), (std::vector<std::string>{"ops:success"}));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const std::string expected_body = renderWebhookPayload(event(), "test-host", kVersion);
  EXPECT_EQ(requests[0].body, expected_body);
  EXPECT_TRUE(requests[0].head.starts_with("POST /hook/SECRET HTTP/1.1\r\n")) << requests[0].head;
  EXPECT_TRUE(hasHeader(requests[0].head, "Content-Type: application/json")) << requests[0].head;
  EXPECT_TRUE(hasHeader(requests[0].head, "User-Agent: " + userAgent())) << requests[0].head;
  EXPECT_TRUE(hasHeader(requests[0].head,
                        "X-Pullguard-Signature-256: sha256=" + hmacSha256Hex("k3y", expected_body)))
      << requests[0].head;
}

TEST(Notifier, UnsignedWebhookHasNoSignatureHeader) {
  TestHttpServer server;
  Reports reports;
  Notifier notifier({webhook(server.url())}, 4, fastOptions(), reports.callback());
  notifier.submit(event());
  reports.waitFor(1);
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].head.find("X-Pullguard-Signature"), std::string::npos);
}

TEST(Notifier, SlackGetsTheTextDocument) {
  TestHttpServer server;
  Reports reports;
  ResolvedSink slack = webhook(server.url());
  slack.config.type = SinkType::kSlack;
  slack.config.name = "slack";
  Notifier notifier({slack}, 4, fastOptions(), reports.callback());
  notifier.submit(event());
  EXPECT_EQ(reports.waitFor(1), (std::vector<std::string>{"slack:success"}));
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].body, renderSlackPayload(event()));
}

TEST(Notifier, RetriesOn5xxAnd429ThenSucceeds) {
  TestHttpServer server({503, 429, 204});
  Reports reports;
  Notifier notifier({webhook(server.url())}, 4, fastOptions(), reports.callback());
  notifier.submit(event());
  EXPECT_EQ(reports.waitFor(3),
            (std::vector<std::string>{"ops:retry", "ops:retry", "ops:success"}));
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(Notifier, GivesUpOnOther4xxWithoutRetry) {
  TestHttpServer server({404});
  Reports reports;
  Notifier notifier({webhook(server.url())}, 4, fastOptions(), reports.callback());
  notifier.submit(event());
  EXPECT_EQ(reports.waitFor(1), (std::vector<std::string>{"ops:failure"}));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Notifier, GivesUpAfterMaxAttempts) {
  TestHttpServer server({500, 500, 500, 500});
  Reports reports;
  Notifier notifier({webhook(server.url())}, 4, fastOptions(3), reports.callback());
  notifier.submit(event());
  EXPECT_EQ(reports.waitFor(3),
            (std::vector<std::string>{"ops:retry", "ops:retry", "ops:failure"}));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(Notifier, ConnectionRefusedIsRetried) {
  Reports reports;  // nothing listens on port 1 (privileged, unused)
  Notifier notifier({webhook("http://127.0.0.1:1/hook")}, 4, fastOptions(2), reports.callback());
  notifier.submit(event());
  EXPECT_EQ(reports.waitFor(2), (std::vector<std::string>{"ops:retry", "ops:failure"}));
}

// Blocks every request until released, so the test controls when the worker is busy.
class BlockingClient final : public HttpClient {
 public:
  struct Gate {
    std::mutex mutex;
    std::condition_variable changed;
    int entered = 0;
    bool released = false;
  };
  explicit BlockingClient(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  HttpResponse perform(const HttpRequest&) override {
    std::unique_lock lock(gate_->mutex);
    ++gate_->entered;
    gate_->changed.notify_all();
    gate_->changed.wait(lock, [&] { return gate_->released; });
    return {.status = 200};
  }

 private:
  std::shared_ptr<Gate> gate_;
};

TEST(Notifier, FullQueueDropsWithoutBlocking) {
  auto gate = std::make_shared<BlockingClient::Gate>();
  NotifierOptions options = fastOptions();
  options.http_client_factory = [gate] { return std::make_unique<BlockingClient>(gate); };
  Reports reports;
  Notifier notifier({webhook("http://unused.invalid/")}, 1, options, reports.callback());
  notifier.submit(event("first"));
  {
    std::unique_lock lock(gate->mutex);
    ASSERT_TRUE(gate->changed.wait_for(lock, 5s, [&] { return gate->entered == 1; }));
  }
  const auto started = std::chrono::steady_clock::now();
  notifier.submit(event("queued"));
  notifier.submit(event("dropped"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 100ms);
  EXPECT_EQ(reports.waitFor(1), (std::vector<std::string>{"ops:dropped"}));
  {
    std::lock_guard lock(gate->mutex);
    gate->released = true;
  }
  gate->changed.notify_all();
  EXPECT_EQ(reports.waitFor(3),
            (std::vector<std::string>{"ops:dropped", "ops:success", "ops:success"}));
}

TEST(Notifier, ShutdownCutsABackoffWaitShort) {
  TestHttpServer server({500, 500, 500, 500});
  Reports reports;
  NotifierOptions options = fastOptions();
  options.first_backoff = 60s;
  options.max_backoff = 60s;
  auto notifier = std::make_unique<Notifier>(std::vector{webhook(server.url())}, 4, options,
                                             reports.callback());
  notifier->submit(event());
  ASSERT_EQ(reports.waitFor(1), (std::vector<std::string>{"ops:retry"}));
  const auto started = std::chrono::steady_clock::now();
  notifier.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_EQ(reports.waitFor(1, 0ms).size(), 1u);  // nothing reported for the abandoned retry
}

class ExecSink : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pullguard-notifier-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    ::unsetenv("PULLGUARD_TEST_SECRET");
    std::filesystem::remove_all(dir_);
  }
  std::string script(const std::string& body) {
    const auto path = dir_ / "hook.sh";
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ::chmod(path.c_str(), 0700);
    return path.string();
  }
  ResolvedSink sink(std::vector<std::string> command, std::int64_t timeout_seconds = 10) {
    ResolvedSink s;
    s.config.type = SinkType::kExec;
    s.config.name = "page";
    s.config.command = std::move(command);
    s.config.timeout_seconds = timeout_seconds;
    return s;
  }
  std::string read(const std::string& name) {
    std::ifstream in(dir_ / name);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::filesystem::path dir_;
};

TEST_F(ExecSink, HookSeesOnlyItsOwnEnvironmentAndArguments) {
  ::setenv("PULLGUARD_TEST_SECRET", "Pw-Do-Not-Leak", 1);
  const std::string out = (dir_ / "env.txt").string();
  const std::string hook =
      script("env | sort > \"$1\"; echo \"$2\" > \"$1.arg\"; read x || true\n");
  Reports reports;
  Notifier notifier({sink({hook, out, "two words"})}, 4, fastOptions(), reports.callback());
  notifier.submit(event());
  EXPECT_EQ(reports.waitFor(1), (std::vector<std::string>{"page:success"}));
  const std::string env = read("env.txt");
  EXPECT_EQ(env.find("PULLGUARD_TEST_SECRET"), std::string::npos) << env;
  EXPECT_EQ(env.find("Pw-Do-Not-Leak"), std::string::npos) << env;
  EXPECT_NE(env.find("PATH=/usr/local/bin:/usr/bin:/bin\n"), std::string::npos) << env;
  EXPECT_NE(env.find("LANG=C.UTF-8\n"), std::string::npos) << env;
  EXPECT_NE(env.find("PULLGUARD_LEVEL=warning\n"), std::string::npos) << env;
  EXPECT_NE(env.find("PULLGUARD_IDENTITY=anonymous\n"), std::string::npos) << env;
  EXPECT_NE(env.find("PULLGUARD_REMAINING=18\n"), std::string::npos) << env;
  EXPECT_NE(env.find("PULLGUARD_EVENT_JSON=" +
                     renderWebhookPayload(event(), "test-host", kVersion) + "\n"),
            std::string::npos)
      << env;
  EXPECT_EQ(read("env.txt.arg"), "two words\n");
}

TEST_F(ExecSink, NonzeroExitIsRetriedThenFails) {
  Reports reports;
  const std::string hook = script("echo attempt >> \"$0.count\"; echo boom >&2; exit 3\n");
  Notifier notifier({sink({hook})}, 4, fastOptions(2), reports.callback());
  notifier.submit(event());
  EXPECT_EQ(reports.waitFor(2), (std::vector<std::string>{"page:retry", "page:failure"}));
  EXPECT_EQ(read("hook.sh.count"), "attempt\nattempt\n");
}

TEST_F(ExecSink, MissingCommandFailsWithoutRetry) {
  Reports reports;
  Notifier notifier({sink({(dir_ / "absent").string()})}, 4, fastOptions(), reports.callback());
  notifier.submit(event());
  EXPECT_EQ(reports.waitFor(1), (std::vector<std::string>{"page:failure"}));
}

TEST_F(ExecSink, TimeoutKillsTheWholeProcessGroup) {
  Reports reports;
  const std::string pid_file = (dir_ / "child.pid").string();
  const std::string hook = script("sleep 30 & echo $! > \"$1\"; wait\n");
  Notifier notifier({sink({hook, pid_file}, 1)}, 4, fastOptions(1), reports.callback());
  const auto started = std::chrono::steady_clock::now();
  notifier.submit(event());
  EXPECT_EQ(reports.waitFor(1), (std::vector<std::string>{"page:failure"}));
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_GE(elapsed, 1s);
  EXPECT_LT(elapsed, 3s);
  const pid_t grandchild = std::stoi(read("child.pid"));
  // The sleep was killed with its group; its parent (the notifier's test process is not it)
  // may not have reaped it yet, so allow a zombie for a moment.
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), {});
    gone = content.empty() || content.find(") Z ") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(gone) << "sleep " << grandchild << " survived the timeout";
}

TEST_F(ExecSink, ShutdownKillsARunningHook) {
  Reports reports;
  const std::string hook = script("touch \"$1\"; sleep 30\n");
  const std::string started_file = (dir_ / "started").string();
  auto notifier = std::make_unique<Notifier>(std::vector{sink({hook, started_file}, 300)}, 4,
                                             fastOptions(), reports.callback());
  notifier->submit(event());
  for (int i = 0; i < 250 && !std::filesystem::exists(started_file); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(std::filesystem::exists(started_file));
  const auto started = std::chrono::steady_clock::now();
  notifier.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  EXPECT_TRUE(reports.waitFor(1, 0ms).empty());
}

}  // namespace
}  // namespace pullguard
