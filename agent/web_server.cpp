#include "web_server.hpp"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>

#include "config.hpp"
#include "log.hpp"

namespace pullguard {
namespace {

// civetweb reports why mg_start failed only through its log callback, on the thread calling
// mg_start; later messages (a client's bad request) come from its workers and go to debug.
thread_local std::string* t_start_error = nullptr;

int captureLog(const mg_connection*, const char* message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (t_start_error != nullptr) {
    *t_start_error = text;
  } else {
    logger().debug("web server", {{"detail", text}});
  }
  return 1;  // handled: civetweb prints nothing itself
}

void ensureCivetwebInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
}

// civetweb wants "ip:port", "[ipv6]:port" or "port" (all IPv4 interfaces).
std::optional<std::string> civetwebPorts(const ListenAddress& address) {
  std::string host = address.host;
  if (host == "localhost") host = "127.0.0.1";
  if (host.empty()) return std::to_string(address.port);
  return host + ":" + std::to_string(address.port);
}

// civetweb (1.15) formats the Date header with gmtime(), whose result lives in one static
// buffer: two workers answering at once race on it (ThreadSanitizer saw it under concurrent
// scrapes). The header block is tiny, so it is built one response at a time.
std::mutex g_response_header_mutex;

void sendResponse(mg_connection* conn, const WebResponse& response, bool head) {
  {
    std::lock_guard lock(g_response_header_mutex);
    mg_response_header_start(conn, response.status);
    mg_response_header_add(conn, "Content-Type", response.content_type.c_str(), -1);
    mg_response_header_add(conn, "Content-Length", std::to_string(response.body.size()).c_str(),
                           -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
    mg_response_header_send(conn);
  }
  if (!head && !response.body.empty()) mg_write(conn, response.body.data(), response.body.size());
}

// A connection that is opened and closed at once, only to wake civetweb's accept poll.
void wakeListener(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  if (v6) {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET6, host.c_str(), &address.sin6_addr) == 1) {
      ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    }
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) == 1) {
      ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    }
  }
  ::close(fd);
}

// Where to connect to reach a listener: its own address, or loopback for a wildcard one.
std::string wakeHost(const std::string& host) {
  if (host.empty() || host == "0.0.0.0") return "127.0.0.1";
  if (host == "[::]") return "::1";
  if (host.starts_with('[')) return host.substr(1, host.size() - 2);
  if (host == "localhost") return "127.0.0.1";
  return host;
}

}  // namespace

std::optional<std::string> listenAddressProblem(const std::string& listen_address) {
  const auto address = parseListenAddress(listen_address);
  if (!address) return "\"" + listen_address + "\" is not host:port";
  ensureCivetwebInitialized();
  constexpr unsigned kCivetwebIpv6Feature = 8;
  if (address->host.starts_with('[') && mg_check_feature(kCivetwebIpv6Feature) == 0) {
    return listen_address + ": IPv6 listen addresses are not supported by this build's " +
           "civetweb; use an IPv4 address such as 0.0.0.0:" + std::to_string(address->port);
  }
  return std::nullopt;
}

struct WebServer::Impl {
  std::vector<WebRoute> routes;
  mg_context* context = nullptr;

  static int handle(mg_connection* conn, void* data) {
    const auto* impl = static_cast<const Impl*>(data);
    const mg_request_info* info = mg_get_request_info(conn);
    const std::string_view method = info->request_method ? info->request_method : "";
    const std::string_view path = info->local_uri ? info->local_uri : "";
    const bool head = method == "HEAD";
    if (method != "GET" && !head) {
      sendResponse(conn, {405, "text/plain; charset=utf-8", "method not allowed\n"}, false);
      return 405;
    }
    for (const WebRoute& route : impl->routes) {
      if (route.path != path) continue;
      WebResponse response;
      try {
        response = route.handler();
      } catch (const std::exception& error) {
        // An exception must not unwind through civetweb's C frames.
        logger().error("web handler failed",
                       {{"path", std::string(path)}, {"error", error.what()}});
        response = {500, "text/plain; charset=utf-8", "internal error\n"};
      }
      sendResponse(conn, response, head);
      return response.status;
    }
    sendResponse(conn, {404, "text/plain; charset=utf-8", "not found\n"}, head);
    return 404;
  }
};

WebServer::WebServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

// civetweb's accept thread polls its listening sockets in 2 s slices and looks at the stop flag
// only between them, so a plain mg_stop() takes up to 2 s. Connecting to our own port wakes the
// poll at once; keep doing that until mg_stop() returns.
WebServer::~WebServer() {
  if (!impl_ || !impl_->context) return;
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    mg_stop(impl_->context);
    stopped = true;
  });
  const auto port = wake_port_;
  while (!stopped) {
    wakeListener(wake_host_, port);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stopper.join();
}

std::unique_ptr<WebServer> WebServer::start(const std::string& listen_address,
                                            std::vector<WebRoute> routes, std::string& error) {
  if (auto problem = listenAddressProblem(listen_address)) {
    error = "web.listen_address: " + *problem;
    return nullptr;
  }
  const auto address = parseListenAddress(listen_address);
  auto impl = std::make_unique<Impl>();
  impl->routes = std::move(routes);
  const std::string ports = *civetwebPorts(*address);
  // Few threads: scrapes are cheap and rare; keep-alive lets a scraper reuse its connection.
  // civetweb writes headers and body separately: without TCP_NODELAY the body waits for the
  // client's delayed ACK, about 40 ms on every keep-alive response.
  const char* options[] = {"listening_ports",
                           ports.c_str(),
                           "num_threads",
                           "4",
                           "enable_keep_alive",
                           "yes",
                           "keep_alive_timeout_ms",
                           "5000",
                           "request_timeout_ms",
                           "10000",
                           "tcp_nodelay",
                           "1",
                           nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = captureLog;
  std::string start_error;
  t_start_error = &start_error;
  impl->context = mg_start(&callbacks, nullptr, options);
  t_start_error = nullptr;
  if (impl->context == nullptr) {
    error = "web.listen_address: " + listen_address + ": " +
            (start_error.empty() ? "cannot listen" : start_error);
    return nullptr;
  }
  mg_set_request_handler(impl->context, "/", &Impl::handle, impl.get());

  mg_server_port bound[4] = {};
  const int count = mg_get_server_ports(impl->context, 4, bound);
  std::unique_ptr<WebServer> server(new WebServer(std::move(impl)));
  std::string host = address->host.empty() ? "0.0.0.0" : address->host;
  server->bound_address_ = host + ":" + std::to_string(count > 0 ? bound[0].port : address->port);
  server->wake_host_ = wakeHost(address->host);
  server->wake_port_ = count > 0 ? bound[0].port : address->port;
  return server;
}

}  // namespace pullguard
