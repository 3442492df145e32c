#include "http_client.hpp"

#include <curl/curl.h>

#include <atomic>
#include <mutex>

#include "version.hpp"

namespace pullguard {
namespace {

std::atomic<bool> g_cancel_all{false};

// How often a transfer in progress looks at the cancel flag: bounds shutdown latency.
constexpr int kCancelPollMillis = 100;

void ensureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  HttpResponse response;
  std::size_t max_body_bytes = 0;
  std::size_t header_bytes = 0;
  bool too_large = false;
};

// Headers above this are a broken or hostile peer; the real ones are a few hundred bytes.
constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  transfer->header_bytes += bytes;
  if (transfer->header_bytes > kMaxHeaderBytes) {
    transfer->too_large = true;
    return 0;
  }
  std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) {  // a new response (after 100 Continue): start over
    transfer->response.headers.clear();
    return bytes;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  transfer->response.headers.push_back(
      {std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
  return bytes;
}

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (transfer->response.body.size() + bytes > transfer->max_body_bytes) {
    transfer->too_large = true;
    return 0;
  }
  transfer->response.body.append(data, bytes);
  return bytes;
}

long curlIpResolve(AddressFamily family) {
  switch (family) {
    case AddressFamily::kIpv4:
      return CURL_IPRESOLVE_V4;
    case AddressFamily::kIpv6:
      return CURL_IPRESOLVE_V6;
    case AddressFamily::kAny:
      break;
  }
  return CURL_IPRESOLVE_WHATEVER;
}

TransportError classify(CURLcode code, bool too_large) {
  // curl refuses a single header line above 100 KiB itself and calls it out of memory.
  if (too_large || code == CURLE_OUT_OF_MEMORY) return TransportError::kTooLarge;
  if (code == CURLE_OPERATION_TIMEDOUT) return TransportError::kTimeout;
  return TransportError::kNetwork;
}

class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient() : handle_(curl_easy_init()), multi_(curl_multi_init()) {}
  ~CurlHttpClient() override {
    curl_multi_cleanup(multi_);
    curl_easy_cleanup(handle_);
  }
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  HttpResponse perform(const HttpRequest& request) override {
    Transfer transfer;
    transfer.max_body_bytes = request.max_body_bytes;
    if (handle_ == nullptr || multi_ == nullptr) {
      transfer.response.error = TransportError::kNetwork;
      transfer.response.error_message = "curl_easy_init failed";
      return transfer.response;
    }
    // Reset keeps the connection cache, so keep-alive connections survive between probes.
    curl_easy_reset(handle_);
    char error_buffer[CURL_ERROR_SIZE] = {};
    curl_slist* headers = buildHeaders(request);
    setOptions(request, transfer, headers, error_buffer);
    const CURLcode code = runTransfer();
    curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, nullptr);  // it lives on this stack frame
    curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(headers);  // frees the Authorization header copy

    double seconds = 0;
    curl_easy_getinfo(handle_, CURLINFO_TOTAL_TIME, &seconds);
    transfer.response.duration_seconds = seconds;
    if (code != CURLE_OK) {
      transfer.response.error = classify(code, transfer.too_large);
      transfer.response.error_message =
          transfer.response.error == TransportError::kTooLarge
              ? "response larger than the limit"
              : (error_buffer[0] ? error_buffer : curl_easy_strerror(code));
      return transfer.response;
    }
    curl_easy_getinfo(handle_, CURLINFO_RESPONSE_CODE, &transfer.response.status);
    return transfer.response;
  }

 private:
  static curl_slist* buildHeaders(const HttpRequest& request) {
    curl_slist* headers = nullptr;
    for (const auto& header : request.headers) headers = curl_slist_append(headers, header.c_str());
    // No "Expect: 100-continue" round trip for small bodies (webhooks, PutMetricData).
    if (request.method == "POST") headers = curl_slist_append(headers, "Expect:");
    if (!request.bearer_token.empty()) {
      const std::string authorization = "Authorization: Bearer " + request.bearer_token;
      headers = curl_slist_append(headers, authorization.c_str());
    }
    return headers;
  }

  void setOptions(const HttpRequest& request, Transfer& transfer, curl_slist* headers,
                  char* error_buffer) {
    curl_easy_setopt(handle_, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(handle_, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM for DNS
    curl_easy_setopt(handle_, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(handle_, CURLOPT_USERAGENT, userAgent().c_str());
    curl_easy_setopt(handle_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(handle_, CURLOPT_IPRESOLVE, curlIpResolve(request.family));
    curl_easy_setopt(handle_, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(handle_, CURLOPT_FOLLOWLOCATION, 0L);  // never carry credentials elsewhere
    curl_easy_setopt(handle_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(handle_, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(handle_, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(handle_, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(handle_, CURLOPT_WRITEDATA, &transfer);
    if (request.method == "HEAD") curl_easy_setopt(handle_, CURLOPT_NOBODY, 1L);
    if (request.method == "POST") {
      curl_easy_setopt(handle_, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(handle_, CURLOPT_POSTFIELDS, request.body.data());
    }
    if (request.basic_auth) {
      curl_easy_setopt(handle_, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      curl_easy_setopt(handle_, CURLOPT_USERNAME, request.basic_auth->username.c_str());
      curl_easy_setopt(handle_, CURLOPT_PASSWORD, request.basic_auth->password.c_str());
    }
  }

  // Drives the one easy handle through a multi handle instead of curl_easy_perform, so a
  // shutdown can abort a transfer within kCancelPollMillis rather than waiting for its timeout.
  // The multi handle owns the connection cache, which keeps connections alive across probes.
  CURLcode runTransfer() {
    curl_multi_add_handle(multi_, handle_);
    CURLcode result = CURLE_OK;
    bool done = false;
    while (!done) {
      if (g_cancel_all.load(std::memory_order_relaxed)) {
        result = CURLE_ABORTED_BY_CALLBACK;
        break;
      }
      int running = 0;
      if (curl_multi_perform(multi_, &running) != CURLM_OK) {
        result = CURLE_FAILED_INIT;
        break;
      }
      int pending = 0;
      while (CURLMsg* message = curl_multi_info_read(multi_, &pending)) {
        if (message->msg == CURLMSG_DONE) {
          result = message->data.result;
          done = true;
        }
      }
      if (!done && running > 0) curl_multi_poll(multi_, nullptr, 0, kCancelPollMillis, nullptr);
      if (!done && running == 0) done = true;  // finished without a message: treat as done
    }
    curl_multi_remove_handle(multi_, handle_);
    return result;
  }

  CURL* handle_;
  CURLM* multi_;
};

}  // namespace

void cancelAllHttpTransfers() { g_cancel_all.store(true); }

std::string userAgent() { return std::string("pullguard/") + kVersion; }

std::unique_ptr<HttpClient> makeCurlHttpClient() {
  ensureCurlInitialized();
  return std::make_unique<CurlHttpClient>();
}

}  // namespace pullguard
