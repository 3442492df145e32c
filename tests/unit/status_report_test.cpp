#include "status_report.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "state.hpp"

namespace pullguard {
namespace {

using namespace std::chrono_literals;

const Thresholds kThresholds{0.2, 0.05};
const std::chrono::system_clock::time_point kObserved =
    std::chrono::sys_days(std::chrono::year(2024) / 1 / 2) + 3h + 4min + 5s;

StatusEntry entry(std::optional<ProbeOutcome> outcome, std::optional<Quota> quota,
                  std::string identity = "anonymous", AddressFamily family = AddressFamily::kAny) {
  StatusEntry e;
  e.identity = std::move(identity);
  e.family = family;
  e.outcome = outcome;
  e.quota = quota;
  return e;
}

StatusEntry unlimitedEntry() {
  StatusEntry e = entry(ProbeOutcome::kUnlimited, std::nullopt, "paid");
  e.unlimited = true;
  return e;
}

Quota quota(std::int64_t remaining, std::int64_t limit = 100,
            std::optional<std::int64_t> window = 21600) {
  return Quota{limit, remaining, window};
}

TEST(StatusName, NamesEveryStatus) {
  EXPECT_EQ(statusName(CheckStatus::kOk), "ok");
  EXPECT_EQ(statusName(CheckStatus::kWarning), "warning");
  EXPECT_EQ(statusName(CheckStatus::kCritical), "critical");
  EXPECT_EQ(statusName(CheckStatus::kUnknown), "unknown");
  EXPECT_EQ(static_cast<int>(CheckStatus::kOk), 0);
  EXPECT_EQ(static_cast<int>(CheckStatus::kWarning), 1);
  EXPECT_EQ(static_cast<int>(CheckStatus::kCritical), 2);
  EXPECT_EQ(static_cast<int>(CheckStatus::kUnknown), 3);
}

TEST(EntryStatus, FollowsTheRule) {
  const struct {
    const char* name;
    StatusEntry entry;
    CheckStatus status;
  } cases[] = {
      {"remaining 0", entry(ProbeOutcome::kOk, quota(0)), CheckStatus::kCritical},
      {"at critical ratio", entry(ProbeOutcome::kOk, quota(5)), CheckStatus::kCritical},
      {"below critical ratio", entry(ProbeOutcome::kOk, quota(4)), CheckStatus::kCritical},
      {"just above critical", entry(ProbeOutcome::kOk, quota(6)), CheckStatus::kWarning},
      {"at warning ratio", entry(ProbeOutcome::kOk, quota(20)), CheckStatus::kWarning},
      {"above warning ratio", entry(ProbeOutcome::kOk, quota(21)), CheckStatus::kOk},
      {"full", entry(ProbeOutcome::kOk, quota(100)), CheckStatus::kOk},
      {"429 with remaining 0", entry(ProbeOutcome::kRateLimited, quota(0)), CheckStatus::kCritical},
      {"429 without quota", entry(ProbeOutcome::kRateLimited, std::nullopt), CheckStatus::kUnknown},
      {"failed, kept quota low", entry(ProbeOutcome::kTimeout, quota(3)), CheckStatus::kCritical},
      {"failed, kept quota in warning", entry(ProbeOutcome::kTimeout, quota(10)),
       CheckStatus::kUnknown},
      {"failed, kept quota high", entry(ProbeOutcome::kNetworkError, quota(80)),
       CheckStatus::kUnknown},
      {"failed, no quota", entry(ProbeOutcome::kAuthFailed, std::nullopt), CheckStatus::kUnknown},
      {"not probed", entry(std::nullopt, std::nullopt), CheckStatus::kUnknown},
      {"unlimited", unlimitedEntry(), CheckStatus::kOk},
      {"ok without quota", entry(ProbeOutcome::kOk, std::nullopt), CheckStatus::kOk},
      {"limit 0, remaining 0", entry(ProbeOutcome::kOk, quota(0, 0)), CheckStatus::kCritical},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(entryStatus(c.entry, kThresholds), c.status) << c.name;
  }
}

TEST(EntryStatus, UsesTheGivenThresholds) {
  const StatusEntry e = entry(ProbeOutcome::kOk, quota(30));
  EXPECT_EQ(entryStatus(e, Thresholds{0.2, 0.05}), CheckStatus::kOk);
  EXPECT_EQ(entryStatus(e, Thresholds{0.3, 0.05}), CheckStatus::kWarning);
  EXPECT_EQ(entryStatus(e, Thresholds{0.5, 0.3}), CheckStatus::kCritical);
  EXPECT_EQ(entryStatus(entry(ProbeOutcome::kOk, quota(1)), Thresholds{0, 0}), CheckStatus::kOk);
}

TEST(OverallStatus, IsTheWorstEntry) {
  const StatusEntry ok = entry(ProbeOutcome::kOk, quota(80));
  const StatusEntry warning = entry(ProbeOutcome::kOk, quota(10));
  const StatusEntry unknown = entry(ProbeOutcome::kTimeout, std::nullopt);
  const StatusEntry critical = entry(ProbeOutcome::kRateLimited, quota(0));
  EXPECT_EQ(overallStatus({}, kThresholds), CheckStatus::kOk);
  EXPECT_EQ(overallStatus({ok, unlimitedEntry()}, kThresholds), CheckStatus::kOk);
  EXPECT_EQ(overallStatus({ok, warning}, kThresholds), CheckStatus::kWarning);
  EXPECT_EQ(overallStatus({warning, unknown, ok}, kThresholds), CheckStatus::kUnknown);
  EXPECT_EQ(overallStatus({unknown, critical, warning}, kThresholds), CheckStatus::kCritical);
  EXPECT_EQ(overallStatus({critical, ok}, kThresholds), CheckStatus::kCritical);
}

// What a probe recorded in the state looks like in the report.
StatusEntry entryAfter(const std::string& identity, AddressFamily family,
                       const ProbeResult& result) {
  State state;
  state.configure({Identity{IdentityConfig{.name = identity, .families = {family}}, std::nullopt}},
                  Config{});
  state.record(identity, family, result);
  return entriesFromSnapshot(*state.snapshot()).at(0);
}

TEST(EntriesFromSnapshot, CopiesARecordedProbe) {
  ProbeResult result;
  result.outcome = ProbeOutcome::kOk;
  result.quota = quota(76);
  result.source = "203.0.113.7";
  result.duration_seconds = 0.5;
  result.finished_at = kObserved;
  const StatusEntry e = entryAfter("ci", AddressFamily::kIpv6, result);
  EXPECT_EQ(e.identity, "ci");
  EXPECT_EQ(e.family, AddressFamily::kIpv6);
  EXPECT_EQ(e.outcome, ProbeOutcome::kOk);
  EXPECT_EQ(e.source, "203.0.113.7");
  ASSERT_TRUE(e.quota.has_value());
  EXPECT_EQ(e.quota->remaining, 76);
  EXPECT_FALSE(e.unlimited);
  EXPECT_DOUBLE_EQ(e.duration_seconds, 0.5);
  EXPECT_EQ(e.error, "");
  EXPECT_EQ(e.observed_at, kObserved);

  ProbeResult failed;
  failed.outcome = ProbeOutcome::kTimeout;
  failed.error = "Operation timed out";
  failed.finished_at = kObserved;
  const StatusEntry f = entryAfter("ci", AddressFamily::kIpv4, failed);
  EXPECT_EQ(f.error, "Operation timed out");
  EXPECT_FALSE(f.observed_at.has_value());

  ProbeResult unlimited;
  unlimited.outcome = ProbeOutcome::kUnlimited;
  unlimited.finished_at = kObserved;
  const StatusEntry u = entryAfter("paid", AddressFamily::kAny, unlimited);
  EXPECT_TRUE(u.unlimited);
  EXPECT_EQ(u.observed_at, kObserved);
}

TEST(EntriesFromSnapshot, MarksBucketsNotProbedYet) {
  Snapshot snapshot;
  SlotSnapshot probed;
  probed.identity = "anonymous";
  probed.last_outcome = ProbeOutcome::kTimeout;
  probed.last_error = "Operation timed out";
  probed.quota = quota(40);
  probed.source = "203.0.113.7";
  probed.observed_at = kObserved;
  probed.last_duration_seconds = 10;
  SlotSnapshot pending;
  pending.identity = "ci";
  pending.family = AddressFamily::kIpv6;
  snapshot.slots = {probed, pending};

  const std::vector<StatusEntry> entries = entriesFromSnapshot(snapshot);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].identity, "anonymous");
  EXPECT_EQ(entries[0].outcome, ProbeOutcome::kTimeout);
  EXPECT_EQ(entries[0].error, "Operation timed out");
  ASSERT_TRUE(entries[0].quota.has_value());
  EXPECT_EQ(entries[0].quota->remaining, 40);
  EXPECT_EQ(entries[0].source, "203.0.113.7");
  EXPECT_EQ(entries[0].observed_at, kObserved);
  EXPECT_DOUBLE_EQ(entries[0].duration_seconds, 10);
  EXPECT_EQ(entries[1].identity, "ci");
  EXPECT_EQ(entries[1].family, AddressFamily::kIpv6);
  EXPECT_FALSE(entries[1].outcome.has_value());
  EXPECT_EQ(entries[1].error, "not probed yet");
  EXPECT_EQ(entryStatus(entries[1], kThresholds), CheckStatus::kUnknown);
}

std::vector<StatusEntry> sampleEntries() {
  StatusEntry ok = entry(ProbeOutcome::kOk, quota(76), "anonymous", AddressFamily::kAny);
  ok.source = "203.0.113.7";
  ok.duration_seconds = 0.12345;
  ok.observed_at = kObserved;

  StatusEntry warning =
      entry(ProbeOutcome::kOk, quota(12, 200, std::nullopt), "ci", AddressFamily::kIpv4);
  warning.source = "acme-ci";
  warning.duration_seconds = 0.5;
  warning.observed_at = kObserved;

  StatusEntry failed = entry(ProbeOutcome::kHttpError, std::nullopt, "ci", AddressFamily::kIpv6);
  failed.error = "registry answered HTTP 503";
  failed.duration_seconds = 1.0;

  StatusEntry paid = unlimitedEntry();
  paid.source = "acme-paid";
  paid.observed_at = kObserved;
  return {ok, warning, failed, paid};
}

TEST(RenderStatusJson, HasTheDocumentedShape) {
  const nlohmann::json document =
      nlohmann::json::parse(renderStatusJson(sampleEntries(), kThresholds));
  EXPECT_EQ(document.at("status"), "unknown");
  const auto& results = document.at("results");
  ASSERT_TRUE(results.is_array());
  ASSERT_EQ(results.size(), 4u);

  for (const auto& item : results) {
    for (const char* key :
         {"identity", "family", "outcome", "source", "limit", "remaining", "window_seconds",
          "duration_seconds", "error", "unlimited", "status", "observed_at"}) {
      EXPECT_TRUE(item.contains(key)) << key;
    }
  }

  const auto& ok = results[0];
  EXPECT_EQ(ok.at("identity"), "anonymous");
  EXPECT_EQ(ok.at("family"), "any");
  EXPECT_EQ(ok.at("outcome"), "ok");
  EXPECT_EQ(ok.at("source"), "203.0.113.7");
  EXPECT_EQ(ok.at("limit"), 100);
  EXPECT_EQ(ok.at("remaining"), 76);
  EXPECT_EQ(ok.at("window_seconds"), 21600);
  EXPECT_DOUBLE_EQ(ok.at("duration_seconds").get<double>(), 0.123);
  EXPECT_TRUE(ok.at("error").is_null());
  EXPECT_EQ(ok.at("unlimited"), false);
  EXPECT_EQ(ok.at("status"), "ok");
  EXPECT_EQ(ok.at("observed_at"), "2024-01-02T03:04:05Z");

  const auto& warning = results[1];
  EXPECT_EQ(warning.at("identity"), "ci");
  EXPECT_EQ(warning.at("family"), "ipv4");
  EXPECT_EQ(warning.at("limit"), 200);
  EXPECT_EQ(warning.at("remaining"), 12);
  EXPECT_TRUE(warning.at("window_seconds").is_null());
  EXPECT_EQ(warning.at("status"), "warning");

  const auto& failed = results[2];
  EXPECT_EQ(failed.at("family"), "ipv6");
  EXPECT_EQ(failed.at("outcome"), "http_error");
  EXPECT_TRUE(failed.at("source").is_null());
  EXPECT_TRUE(failed.at("limit").is_null());
  EXPECT_TRUE(failed.at("remaining").is_null());
  EXPECT_TRUE(failed.at("window_seconds").is_null());
  EXPECT_EQ(failed.at("error"), "registry answered HTTP 503");
  EXPECT_EQ(failed.at("status"), "unknown");
  EXPECT_TRUE(failed.at("observed_at").is_null());

  const auto& paid = results[3];
  EXPECT_EQ(paid.at("outcome"), "unlimited");
  EXPECT_TRUE(paid.at("limit").is_null());
  EXPECT_TRUE(paid.at("remaining").is_null());
  EXPECT_TRUE(paid.at("window_seconds").is_null());
  EXPECT_EQ(paid.at("unlimited"), true);
  EXPECT_EQ(paid.at("status"), "ok");
}

TEST(RenderStatusJson, NotProbedHasNullOutcome) {
  Snapshot snapshot;
  SlotSnapshot slot;
  slot.identity = "anonymous";
  snapshot.slots = {slot};
  const nlohmann::json document =
      nlohmann::json::parse(renderStatusJson(entriesFromSnapshot(snapshot), kThresholds));
  EXPECT_EQ(document.at("status"), "unknown");
  ASSERT_EQ(document.at("results").size(), 1u);
  const auto& item = document.at("results")[0];
  EXPECT_TRUE(item.at("outcome").is_null());
  EXPECT_TRUE(item.at("limit").is_null());
  EXPECT_EQ(item.at("error"), "not probed yet");
  EXPECT_EQ(item.at("status"), "unknown");
}

TEST(RenderStatusJson, EmptyIsOkWithNoResults) {
  const nlohmann::json document = nlohmann::json::parse(renderStatusJson({}, kThresholds));
  EXPECT_EQ(document.at("status"), "ok");
  EXPECT_TRUE(document.at("results").is_array());
  EXPECT_TRUE(document.at("results").empty());
}

TEST(RenderStatusJson, SurvivesInvalidUtf8InErrors) {
  StatusEntry e = entry(ProbeOutcome::kBadResponse, std::nullopt);
  e.error = "bad \xff byte";
  const std::string text = renderStatusJson({e}, kThresholds);
  const nlohmann::json document = nlohmann::json::parse(text);
  EXPECT_EQ(document.at("results")[0].at("outcome"), "bad_response");
}

Forecast drainForecast() {
  Forecast f;
  f.short_rate = 1.8 / 60;
  f.long_rate = 1.2 / 60;
  f.exhaustion_seconds = 2400;
  f.next_refill_seconds = 600;
  f.expected_remaining = 0;
  f.history_points = 5;
  return f;
}

TEST(RenderStatusText, ShowsHeaderRowsAndErrors) {
  std::vector<StatusEntry> entries = sampleEntries();
  entries[0].forecast = drainForecast();
  const std::string text = renderStatusText(entries, kThresholds);
  const std::string expected =
      "pullguard: unknown\n"
      "\n"
      "IDENTITY   FAMILY  STATUS   OUTCOME     REMAINING     WINDOW  SOURCE       TIME    "
      "FORECAST\n"
      "anonymous  any     ok       ok          76/100 (76%)  6h      203.0.113.7  123ms   "
      "empty in ~40 min at 1.8 pulls/min\n"
      "ci         ipv4    warning  ok          12/200 (6%)   -       acme-ci      500ms   -\n"
      "ci         ipv6    unknown  http_error  -             -       -            1000ms  -\n"
      "paid       any     ok       unlimited   unlimited     -       acme-paid    0ms     -\n"
      "\n"
      "ci/ipv6: registry answered HTTP 503\n";
  EXPECT_EQ(text, expected);
}

TEST(RenderStatusJson, CarriesTheForecastAndTheAlertLevel) {
  StatusEntry e = entry(ProbeOutcome::kOk, quota(76));
  e.forecast = drainForecast();
  e.alert_level = AlertLevel::kWarning;  // the forecast empties it within the horizon
  const nlohmann::json document =
      nlohmann::json::parse(renderStatusJson({e}, kThresholds, ForecastConfig{}));
  const nlohmann::json& item = document.at("results")[0];
  EXPECT_EQ(item.at("alert_level"), "warning");
  EXPECT_EQ(item.at("status"), "warning");
  EXPECT_EQ(document.at("status"), "warning");
  const nlohmann::json& forecast = item.at("forecast");
  EXPECT_DOUBLE_EQ(forecast.at("consumption_rate").at("15m").get<double>(), 0.03);
  EXPECT_DOUBLE_EQ(forecast.at("consumption_rate").at("1h").get<double>(), 0.02);
  EXPECT_DOUBLE_EQ(forecast.at("exhaustion_seconds").get<double>(), 2400);
  EXPECT_TRUE(forecast.at("critical_seconds").is_null());
  EXPECT_DOUBLE_EQ(forecast.at("next_refill_seconds").get<double>(), 600);
  EXPECT_EQ(forecast.at("horizon_seconds"), 3600);
  EXPECT_EQ(forecast.at("history_points"), 5);
  EXPECT_EQ(forecast.at("summary"), "empty in ~40 min at 1.8 pulls/min");
}

TEST(EntryStatus, FollowsTheAlertLevel) {
  StatusEntry e = entry(ProbeOutcome::kOk, quota(76));
  e.alert_level = AlertLevel::kCritical;
  EXPECT_EQ(entryStatus(e, kThresholds), CheckStatus::kCritical);
  e.alert_level = AlertLevel::kExhausted;
  EXPECT_EQ(entryStatus(e, kThresholds), CheckStatus::kCritical);
  e.alert_level = AlertLevel::kOk;
  EXPECT_EQ(entryStatus(e, kThresholds), CheckStatus::kOk);
}

TEST(RenderStatusText, PendingEntryAndWindowUnits) {
  StatusEntry pending = entry(std::nullopt, std::nullopt, "ci");
  pending.error = "not probed yet";
  StatusEntry minutes = entry(ProbeOutcome::kOk, quota(50, 100, 90 * 60), "m");
  StatusEntry seconds = entry(ProbeOutcome::kOk, quota(50, 100, 45), "s");
  const std::string text = renderStatusText({pending, minutes, seconds}, kThresholds);
  EXPECT_TRUE(text.starts_with("pullguard: unknown\n\nIDENTITY")) << text;
  EXPECT_NE(text.find("pending"), std::string::npos) << text;
  EXPECT_NE(text.find(" 90m "), std::string::npos) << text;
  EXPECT_NE(text.find(" 45s "), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with("\nci/any: not probed yet\n")) << text;
}

TEST(RenderStatusText, NoErrorSectionWhenAllGood) {
  const std::string text =
      renderStatusText({entry(ProbeOutcome::kOk, quota(90)), unlimitedEntry()}, kThresholds);
  EXPECT_TRUE(text.starts_with("pullguard: ok\n\n")) << text;
  // header, two rows, nothing after
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 5) << text;
}

}  // namespace
}  // namespace pullguard
