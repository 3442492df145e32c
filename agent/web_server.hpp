// The one place that wraps inbound HTTP (civetweb). Serves a fixed set of GET routes whose
// bodies are rendered on demand from thread-safe sources (snapshots).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pullguard {

struct WebResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct WebRoute {
  std::string path;  // exact match
  std::function<WebResponse()> handler;
};

// Why `listen_address` cannot be served, or nullopt if it can: not host:port, or an IPv6
// address while the civetweb library was built without IPv6 (Debian 12's is).
std::optional<std::string> listenAddressProblem(const std::string& listen_address);

class WebServer {
 public:
  // Starts listening on `listen_address` ("host:port", "[::]:port", ":port"; port 0 picks a
  // free one). On failure returns nullptr and sets `error` to one line.
  static std::unique_ptr<WebServer> start(const std::string& listen_address,
                                          std::vector<WebRoute> routes, std::string& error);
  ~WebServer();
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  // The address actually bound, with the chosen port ("127.0.0.1:41234").
  const std::string& boundAddress() const { return bound_address_; }

 private:
  struct Impl;
  explicit WebServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string bound_address_;
  std::string wake_host_;  // where to connect to wake the accept thread at shutdown
  int wake_port_ = 0;
};

}  // namespace pullguard
