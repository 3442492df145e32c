// One delivery attempt of one alert to one sink, and what its result means for retrying.
// The Notifier owns the queues and the retry loop; this file knows the sinks' protocols.
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "alerts/alert_event.hpp"
#include "alerts/alerts_config.hpp"
#include "http_client.hpp"

namespace pullguard {

struct DeliveryResult {
  enum class Verdict {
    kDelivered,
    kRetry,   // may work later: 429, 5xx, timeout, network error, hook failed or timed out
    kGiveUp,  // will not work by trying again: other 4xx, a hook that cannot start
  };
  Verdict verdict = Verdict::kDelivered;
  std::string detail;  // "status 503", "timeout: ...", "exit status 2: <output>"; never the URL
};

// 2xx delivered; 429, 5xx and transport errors retry; any other status gives up. `url` is
// scrubbed from curl's message, since a Slack URL is a secret.
DeliveryResult classifyHttpResponse(const HttpResponse& response, std::string_view url);

// The request a webhook or Slack sink sends for `event`, signed when the sink has an HMAC key.
HttpRequest buildSinkRequest(const ResolvedSink& sink, const AlertEvent& event,
                             std::string_view hostname);

DeliveryResult deliverHttp(HttpClient& client, const ResolvedSink& sink, const AlertEvent& event,
                           std::string_view hostname);

// Runs the exec sink's command; `cancel` cuts it short (the result is then kRetry, unreported).
DeliveryResult deliverExec(const ResolvedSink& sink, const AlertEvent& event,
                           std::string_view hostname, const std::atomic<bool>& cancel);

// The line the log sink writes: warn for firing and repeat, info for resolved.
void logAlert(const AlertEvent& event);

}  // namespace pullguard
