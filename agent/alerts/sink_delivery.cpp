#include "alerts/sink_delivery.hpp"

#include "alerts/alert_payload.hpp"
#include "alerts/exec_hook.hpp"
#include "log.hpp"
#include "version.hpp"

namespace pullguard {
namespace {

// Enough of a hook's output or a curl message for one log line.
constexpr std::size_t kMaxDetailChars = 200;

void replaceAll(std::string& text, std::string_view needle, std::string_view with) {
  if (needle.empty()) return;
  for (auto pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + with.size())) {
    text.replace(pos, needle.size(), with);
  }
}

// curl names the host at most, but the path of a Slack URL is its secret: never let either
// the URL or its path through, whatever a future curl prints.
std::string scrubUrl(std::string message, std::string_view url) {
  replaceAll(message, url, "<url>");
  const auto scheme = url.find("://");
  const auto path = scheme == std::string_view::npos ? scheme : url.find('/', scheme + 3);
  if (path != std::string_view::npos && url.size() - path > 1) {
    replaceAll(message, url.substr(path), "<path>");
  }
  return message;
}

std::string shortLine(std::string_view text) {
  std::string line = oneLine(text);
  while (!line.empty() && line.back() == ' ') line.pop_back();
  if (line.size() > kMaxDetailChars) line = line.substr(0, kMaxDetailChars) + "...";
  return line;
}

std::string optionalText(const std::optional<std::int64_t>& value) {
  return value ? std::to_string(*value) : "";
}

}  // namespace

DeliveryResult classifyHttpResponse(const HttpResponse& response, std::string_view url) {
  using Verdict = DeliveryResult::Verdict;
  if (response.error != TransportError::kNone) {
    const char* kind = response.error == TransportError::kTimeout    ? "timeout"
                       : response.error == TransportError::kTooLarge ? "response too large"
                                                                     : "network error";
    return {Verdict::kRetry,
            std::string(kind) + ": " + shortLine(scrubUrl(response.error_message, url))};
  }
  const std::string status = "status " + std::to_string(response.status);
  if (response.status >= 200 && response.status < 300) return {Verdict::kDelivered, status};
  if (response.status == 429 || response.status >= 500) return {Verdict::kRetry, status};
  return {Verdict::kGiveUp, status};
}

HttpRequest buildSinkRequest(const ResolvedSink& sink, const AlertEvent& event,
                             std::string_view hostname) {
  HttpRequest request;
  request.method = "POST";
  request.url = sink.url;
  request.timeout = std::chrono::seconds(sink.config.timeout_seconds);
  request.headers.push_back("Content-Type: application/json");
  if (sink.config.type == SinkType::kSlack) {
    request.body = renderSlackPayload(event);
  } else {
    request.body = renderWebhookPayload(event, hostname, kVersion);
    if (!sink.hmac_secret.empty()) {
      request.headers.push_back(signatureHeaderLine(sink.hmac_secret, request.body));
    }
  }
  return request;
}

DeliveryResult deliverHttp(HttpClient& client, const ResolvedSink& sink, const AlertEvent& event,
                           std::string_view hostname) {
  return classifyHttpResponse(client.perform(buildSinkRequest(sink, event, hostname)), sink.url);
}

DeliveryResult deliverExec(const ResolvedSink& sink, const AlertEvent& event,
                           std::string_view hostname, const std::atomic<bool>& cancel) {
  using Verdict = DeliveryResult::Verdict;
  const std::string payload = renderWebhookPayload(event, hostname, kVersion);
  const ExecResult result = runExecHook(sink.config.command, execEnvironment(event, payload),
                                        std::chrono::seconds(sink.config.timeout_seconds), cancel);
  if (result.succeeded()) return {Verdict::kDelivered, "exit status 0"};
  std::string detail = describeExecResult(result);
  if (const std::string output = shortLine(result.output); !output.empty()) {
    detail += ": " + output;
  }
  // A missing or non-executable command stays so until someone fixes the host.
  const Verdict verdict =
      result.status == ExecResult::Status::kSpawnFailed ? Verdict::kGiveUp : Verdict::kRetry;
  return {verdict, std::move(detail)};
}

void logAlert(const AlertEvent& event) {
  const auto level = event.kind == AlertEventKind::kResolved ? LogLevel::kInfo : LogLevel::kWarn;
  logger().log(level, "alert",
               {{"kind", std::string(alertEventKindName(event.kind))},
                {"identity", event.identity},
                {"family", std::string(familyName(event.family))},
                {"source", event.source},
                // "level" is the log line's own key (warn, info).
                {"alert_level", std::string(alertLevelName(event.level))},
                {"previous_level", std::string(alertLevelName(event.previous_level))},
                {"remaining", optionalText(event.remaining)},
                {"limit", optionalText(event.limit)},
                {"reason", event.reason}});
}

}  // namespace pullguard
