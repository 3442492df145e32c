// How an AlertEvent reads on the wire: the webhook's JSON document and its HMAC signature, and
// Slack's one-line message. Pure functions, so every byte a receiver sees is pinned by a test.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "alerts/alert_event.hpp"

namespace pullguard {

// The webhook payload's "version": bumped only when a field changes meaning or goes away.
inline constexpr const char* kWebhookPayloadVersion = "1";

// The header carrying the signature; its value is "sha256=<hex>".
inline constexpr const char* kSignatureHeader = "X-Pullguard-Signature-256";

// "2026-11-28T13:00:00Z": UTC, whole seconds.
std::string formatAlertTimestamp(std::chrono::system_clock::time_point at);

// The webhook body (docs/alerts.md lists the fields), compact, one line, keys in a fixed order.
// `version` is the agent's version for "agent": {"hostname", "version"}.
std::string renderWebhookPayload(const AlertEvent& event, std::string_view hostname,
                                 std::string_view version);

// Lowercase hex HMAC-SHA256 of `body` under `key`.
std::string hmacSha256Hex(std::string_view key, std::string_view body);

// "X-Pullguard-Signature-256: sha256=<hex>", the header line a signed webhook carries.
std::string signatureHeaderLine(std::string_view key, std::string_view body);

// Slack's control characters in mrkdwn text: &, < and > become &amp;, &lt; and &gt;.
std::string escapeSlack(std::string_view text);

// One line for people, e.g. ":warning: pullguard *WARNING* anonymous/any (203.0.113.7): 18 of
// 100 pulls left; empty in ~10 min". Escaped for Slack.
std::string slackText(const AlertEvent& event);

// {"text":"<slackText>"}, the body of a Slack incoming-webhook POST.
std::string renderSlackPayload(const AlertEvent& event);

// A value for one line of text (a log field, an environment variable): control characters
// become spaces, so a reason cannot forge a second line.
std::string oneLine(std::string_view text);

// Shortest text that reads back as the same double ("0.5", "600", "0.0333").
std::string formatNumber(double value);

}  // namespace pullguard
