// Every byte a receiver sees: the webhook document, its signature, Slack's line and the exec
// hook's environment, pinned with literal expectations.
#include "alerts/alert_payload.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "alerts/exec_hook.hpp"

namespace pullguard {
namespace {

// 2026-11-28T13:00:00Z
const auto kAt = std::chrono::system_clock::time_point(std::chrono::seconds(1795870800));

AlertEvent warningEvent() {
  AlertEvent event;
  event.kind = AlertEventKind::kFiring;
  event.level = AlertLevel::kWarning;
  event.previous_level = AlertLevel::kOk;
  event.identity = "anonymous";
  event.family = AddressFamily::kAny;
  event.source = "203.0.113.7";
  event.remaining = 18;
  event.limit = 100;
  event.window_seconds = 21600;
  event.consumption_rate = 0.03;
  event.exhaustion_seconds = 600;
  event.next_refill_seconds = 120.5;
  event.reason = "18 of 100 pulls left; empty in ~10 min";
  event.at = kAt;
  return event;
}

AlertEvent resolvedEvent() {
  AlertEvent event;
  event.kind = AlertEventKind::kResolved;
  event.level = AlertLevel::kOk;
  event.previous_level = AlertLevel::kCritical;
  event.identity = "ci";
  event.family = AddressFamily::kIpv6;
  event.remaining = 90;
  event.limit = 200;
  event.reason = "budget refilled";
  event.at = kAt;
  return event;
}

TEST(AlertPayload, Timestamp) {
  EXPECT_EQ(formatAlertTimestamp(kAt), "2026-11-28T13:00:00Z");
  EXPECT_EQ(formatAlertTimestamp(kAt + std::chrono::milliseconds(999)), "2026-11-28T13:00:00Z");
}

TEST(AlertPayload, WebhookDocument) {
  EXPECT_EQ(renderWebhookPayload(warningEvent(), "host-1", "0.1.0"),
            R"({"version":"1","kind":"firing","level":"warning","previous_level":"ok",)"
            R"("identity":"anonymous","family":"any","source":"203.0.113.7","remaining":18,)"
            R"("limit":100,"window_seconds":21600,"consumption_rate_per_second":0.03,)"
            R"("exhaustion_seconds":600.0,"next_refill_seconds":120.5,)"
            R"("reason":"18 of 100 pulls left; empty in ~10 min",)"
            R"("timestamp":"2026-11-28T13:00:00Z",)"
            R"("agent":{"hostname":"host-1","version":"0.1.0"}})");
}

TEST(AlertPayload, WebhookDocumentWithUnknownsAsNull) {
  AlertEvent event = resolvedEvent();
  event.remaining.reset();
  event.limit.reset();
  event.exhaustion_seconds = std::numeric_limits<double>::infinity();
  event.reason = "quote \" and\nnewline";
  EXPECT_EQ(renderWebhookPayload(event, "h", "v"),
            R"({"version":"1","kind":"resolved","level":"ok","previous_level":"critical",)"
            R"("identity":"ci","family":"ipv6","source":"","remaining":null,"limit":null,)"
            R"("window_seconds":null,"consumption_rate_per_second":null,)"
            R"("exhaustion_seconds":null,"next_refill_seconds":null,)"
            R"("reason":"quote \" and\nnewline","timestamp":"2026-11-28T13:00:00Z",)"
            R"("agent":{"hostname":"h","version":"v"}})");
}

TEST(AlertPayload, HmacMatchesRfc4231TestCase2) {
  EXPECT_EQ(hmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(signatureHeaderLine("Jefe", "what do ya want for nothing?"),
            "X-Pullguard-Signature-256: "
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(AlertPayload, HmacMatchesRfc4231TestCase1) {
  const std::string key(20, '\x0b');
  EXPECT_EQ(hmacSha256Hex(key, "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(AlertPayload, SlackEscapesItsControlCharacters) {
  EXPECT_EQ(escapeSlack("a & b <c> d"), "a &amp; b &lt;c&gt; d");
  EXPECT_EQ(escapeSlack("plain"), "plain");
}

TEST(AlertPayload, SlackFiringLineDoesNotRepeatTheCount) {
  EXPECT_EQ(slackText(warningEvent()),
            ":warning: pullguard *WARNING* anonymous/any (203.0.113.7): 18 of 100 pulls left; "
            "empty in ~10 min");
}

TEST(AlertPayload, SlackFiringLineAddsTheCountBeforeTheReason) {
  AlertEvent event = warningEvent();
  event.level = AlertLevel::kCritical;
  event.reason = "empty in ~2 min <fast>";
  EXPECT_EQ(slackText(event),
            ":rotating_light: pullguard *CRITICAL* anonymous/any (203.0.113.7): 18 of 100 pulls "
            "left; empty in ~2 min &lt;fast&gt;");
}

TEST(AlertPayload, SlackRepeatAndExhausted) {
  AlertEvent event = warningEvent();
  event.kind = AlertEventKind::kRepeat;
  event.level = AlertLevel::kExhausted;
  event.remaining = 0;
  event.reason = "no pulls left\nuntil refill";
  event.source = "";
  EXPECT_EQ(slackText(event),
            ":no_entry: pullguard *EXHAUSTED* (still) anonymous/any: 0 of 100 pulls left; no "
            "pulls left until refill");
}

TEST(AlertPayload, SlackResolvedLine) {
  EXPECT_EQ(slackText(resolvedEvent()),
            ":white_check_mark: pullguard *RESOLVED* ci/ipv6: back to ok from critical; 90 of 200 "
            "pulls left; budget refilled");
  EXPECT_EQ(renderSlackPayload(resolvedEvent()),
            R"({"text":":white_check_mark: pullguard *RESOLVED* ci/ipv6: back to ok from )"
            R"(critical; 90 of 200 pulls left; budget refilled"})");
}

TEST(AlertPayload, NumbersReadBackExactly) {
  EXPECT_EQ(formatNumber(600), "600");
  EXPECT_EQ(formatNumber(0.5), "0.5");
  EXPECT_EQ(formatNumber(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(formatNumber(std::numeric_limits<double>::quiet_NaN()), "");
}

TEST(ExecEnvironment, HasExactlyTheDocumentedVariables) {
  AlertEvent event = warningEvent();
  event.reason = "two\nlines";
  EXPECT_EQ(execEnvironment(event, R"({"k":1})"), (std::vector<std::string>{
                                                      "PATH=/usr/local/bin:/usr/bin:/bin",
                                                      "LANG=C.UTF-8",
                                                      "PULLGUARD_EVENT_KIND=firing",
                                                      "PULLGUARD_LEVEL=warning",
                                                      "PULLGUARD_PREVIOUS_LEVEL=ok",
                                                      "PULLGUARD_IDENTITY=anonymous",
                                                      "PULLGUARD_FAMILY=any",
                                                      "PULLGUARD_SOURCE=203.0.113.7",
                                                      "PULLGUARD_REMAINING=18",
                                                      "PULLGUARD_LIMIT=100",
                                                      "PULLGUARD_WINDOW_SECONDS=21600",
                                                      "PULLGUARD_EXHAUSTION_SECONDS=600",
                                                      "PULLGUARD_NEXT_REFILL_SECONDS=120.5",
                                                      "PULLGUARD_REASON=two lines",
                                                      "PULLGUARD_TIMESTAMP=2026-11-28T13:00:00Z",
                                                      R"(PULLGUARD_EVENT_JSON={"k":1})",
                                                  }));
}

TEST(ExecEnvironment, UnknownNumbersAreEmpty) {
  const std::vector<std::string> env = execEnvironment(resolvedEvent(), "{}");
  EXPECT_EQ(env[8], "PULLGUARD_REMAINING=90");
  EXPECT_EQ(env[10], "PULLGUARD_WINDOW_SECONDS=");
  EXPECT_EQ(env[11], "PULLGUARD_EXHAUSTION_SECONDS=");
  EXPECT_EQ(env[12], "PULLGUARD_NEXT_REFILL_SECONDS=");
}

}  // namespace
}  // namespace pullguard
