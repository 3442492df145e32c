// The one place that wraps libcurl for outbound requests. A blocking call per request, made on
// a worker thread, never on the event loop; one client per probe slot so connections are reused.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "address_family.hpp"
#include "docker_config.hpp"
#include "http_types.hpp"

namespace pullguard {

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD or POST
  std::string url;
  std::string body;                  // sent when method is POST (Content-Type goes in headers)
  std::vector<std::string> headers;  // "Name: value"
  std::optional<BasicCredentials> basic_auth;
  std::string bearer_token;  // sent as Authorization: Bearer, never logged
  AddressFamily family = AddressFamily::kAny;
  std::chrono::milliseconds timeout{10'000};
  std::size_t max_body_bytes = 64 * 1024;  // token replies and error bodies are small
};

enum class TransportError {
  kNone,
  kTimeout,
  kNetwork,   // DNS, connect, TLS, reset, no route for the family
  kTooLarge,  // body or headers above the limit
};

struct HttpResponse {
  TransportError error = TransportError::kNone;
  std::string error_message;  // curl's one-line reason when error != kNone
  long status = 0;
  HttpHeaders headers;  // of the final response only
  std::string body;
  double duration_seconds = 0.0;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResponse perform(const HttpRequest& request) = 0;
};

// Makes a libcurl-backed client. Calls curl_global_init once, thread-safely.
std::unique_ptr<HttpClient> makeCurlHttpClient();

// Aborts every transfer in progress and every later one: used once, at shutdown.
void cancelAllHttpTransfers();

// The User-Agent every request carries.
std::string userAgent();

}  // namespace pullguard
