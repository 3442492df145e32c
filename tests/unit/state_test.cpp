#include "state.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace pullguard {
namespace {

using namespace std::chrono_literals;

const std::chrono::system_clock::time_point kT0 =
    std::chrono::sys_days(std::chrono::year(2024) / 3 / 1) + 12h;

Identity anonymousIdentity() { return Identity{IdentityConfig{.name = "anonymous"}, std::nullopt}; }

Identity ciIdentity() {
  return Identity{IdentityConfig{.name = "ci",
                                 .username = "acme-ci",
                                 .password_env = "DOCKERHUB_TOKEN",
                                 .families = {AddressFamily::kIpv4, AddressFamily::kIpv6}},
                  BasicCredentials{"acme-ci", "secret"}};
}

Identity opsIdentity() {
  return Identity{
      IdentityConfig{.name = "ops", .username = "acme-ops", .password_file = "/run/secrets/x"},
      BasicCredentials{"acme-ops", "secret"}};
}

ProbeResult okResult(std::int64_t remaining, std::chrono::system_clock::time_point at,
                     std::string source = "203.0.113.7") {
  ProbeResult result;
  result.outcome = ProbeOutcome::kOk;
  result.quota = Quota{100, remaining, 21600};
  result.source = std::move(source);
  result.http_status = 200;
  result.duration_seconds = 0.25;
  result.finished_at = at;
  return result;
}

ProbeResult failedResult(ProbeOutcome outcome, std::string error,
                         std::chrono::system_clock::time_point at) {
  ProbeResult result;
  result.outcome = outcome;
  result.error = std::move(error);
  result.duration_seconds = 10;
  result.finished_at = at;
  return result;
}

Config withThresholds(Thresholds thresholds) {
  Config config;
  config.thresholds = thresholds;
  return config;
}

const SlotSnapshot& slotOf(const Snapshot& snapshot, const std::string& identity,
                           AddressFamily family) {
  for (const SlotSnapshot& slot : snapshot.slots) {
    if (slot.identity == identity && slot.family == family) return slot;
  }
  ADD_FAILURE() << "no slot " << identity << "/" << familyName(family);
  static const SlotSnapshot kMissing;
  return kMissing;
}

class StateTest : public ::testing::Test {
 protected:
  StateTest() {
    state_.configure({anonymousIdentity(), ciIdentity()}, withThresholds(Thresholds{0.3, 0.1}));
  }
  State state_;
};

TEST_F(StateTest, ConfigureCreatesOneSlotPerIdentityAndFamily) {
  const auto snapshot = state_.snapshot();
  ASSERT_EQ(snapshot->slots.size(), 3u);
  EXPECT_EQ(snapshot->slots[0].identity, "anonymous");
  EXPECT_EQ(snapshot->slots[0].family, AddressFamily::kAny);
  EXPECT_EQ(snapshot->slots[1].identity, "ci");
  EXPECT_EQ(snapshot->slots[1].family, AddressFamily::kIpv4);
  EXPECT_EQ(snapshot->slots[2].identity, "ci");
  EXPECT_EQ(snapshot->slots[2].family, AddressFamily::kIpv6);
  EXPECT_DOUBLE_EQ(snapshot->thresholds.warning_ratio, 0.3);
  EXPECT_DOUBLE_EQ(snapshot->thresholds.critical_ratio, 0.1);

  for (const SlotSnapshot& slot : snapshot->slots) {
    SCOPED_TRACE(slot.identity);
    EXPECT_FALSE(slot.last_outcome.has_value());
    EXPECT_FALSE(slot.quota.has_value());
    EXPECT_FALSE(slot.observed_at.has_value());
    EXPECT_FALSE(slot.last_success_at.has_value());
    EXPECT_EQ(slot.consecutive_failures, 0u);
    ASSERT_EQ(slot.probes_total.size(), kAllProbeOutcomes.size());
    for (ProbeOutcome outcome : kAllProbeOutcomes) {
      ASSERT_TRUE(slot.probes_total.contains(outcome)) << outcomeName(outcome);
      EXPECT_EQ(slot.probes_total.at(outcome), 0u);
    }
  }
  ASSERT_EQ(snapshot->token_requests_total.size(), 2u);
  for (const std::string identity : {"anonymous", "ci"}) {
    ASSERT_TRUE(snapshot->token_requests_total.contains(identity)) << identity;
    const auto& outcomes = snapshot->token_requests_total.at(identity);
    ASSERT_EQ(outcomes.size(), kAllTokenOutcomes.size());
    for (TokenOutcome outcome : kAllTokenOutcomes) EXPECT_EQ(outcomes.at(outcome), 0u);
  }
}

TEST_F(StateTest, RecordsSuccessfulProbe) {
  state_.record("ci", AddressFamily::kIpv4, okResult(76, kT0));
  const auto snapshot = state_.snapshot();
  const SlotSnapshot& slot = slotOf(*snapshot, "ci", AddressFamily::kIpv4);
  EXPECT_EQ(slot.last_outcome, ProbeOutcome::kOk);
  EXPECT_EQ(slot.last_error, "");
  EXPECT_DOUBLE_EQ(slot.last_duration_seconds, 0.25);
  EXPECT_EQ(slot.last_probe_at, kT0);
  ASSERT_TRUE(slot.quota.has_value());
  EXPECT_EQ(slot.quota->limit, 100);
  EXPECT_EQ(slot.quota->remaining, 76);
  EXPECT_EQ(slot.quota->window_seconds, 21600);
  EXPECT_FALSE(slot.unlimited);
  EXPECT_EQ(slot.source, "203.0.113.7");
  EXPECT_EQ(slot.observed_at, kT0);
  EXPECT_EQ(slot.last_success_at, kT0);
  EXPECT_EQ(slot.probes_total.at(ProbeOutcome::kOk), 1u);
  EXPECT_EQ(slot.consecutive_failures, 0u);

  // The other family of the identity is untouched.
  const SlotSnapshot& other = slotOf(*snapshot, "ci", AddressFamily::kIpv6);
  EXPECT_FALSE(other.last_outcome.has_value());
  EXPECT_EQ(other.probes_total.at(ProbeOutcome::kOk), 0u);
}

TEST_F(StateTest, FailedProbeKeepsLastGoodQuota) {
  state_.record("anonymous", AddressFamily::kAny, okResult(40, kT0));
  state_.record("anonymous", AddressFamily::kAny,
                failedResult(ProbeOutcome::kTimeout, "Operation timed out", kT0 + 60s));
  const auto snapshot = state_.snapshot();
  const SlotSnapshot& slot = slotOf(*snapshot, "anonymous", AddressFamily::kAny);
  EXPECT_EQ(slot.last_outcome, ProbeOutcome::kTimeout);
  EXPECT_EQ(slot.last_error, "Operation timed out");
  EXPECT_DOUBLE_EQ(slot.last_duration_seconds, 10);
  EXPECT_EQ(slot.last_probe_at, kT0 + 60s);
  ASSERT_TRUE(slot.quota.has_value());
  EXPECT_EQ(slot.quota->remaining, 40);
  EXPECT_EQ(slot.source, "203.0.113.7");
  EXPECT_EQ(slot.observed_at, kT0);
  EXPECT_EQ(slot.last_success_at, kT0);
  EXPECT_EQ(slot.probes_total.at(ProbeOutcome::kOk), 1u);
  EXPECT_EQ(slot.probes_total.at(ProbeOutcome::kTimeout), 1u);
  EXPECT_EQ(slot.consecutive_failures, 1u);
}

TEST_F(StateTest, SuccessClearsLastError) {
  state_.record("anonymous", AddressFamily::kAny,
                failedResult(ProbeOutcome::kHttpError, "registry answered HTTP 503", kT0));
  state_.record("anonymous", AddressFamily::kAny, okResult(40, kT0 + 60s));
  const auto snapshot = state_.snapshot();
  const SlotSnapshot& slot = slotOf(*snapshot, "anonymous", AddressFamily::kAny);
  EXPECT_EQ(slot.last_outcome, ProbeOutcome::kOk);
  EXPECT_EQ(slot.last_error, "");
  EXPECT_EQ(slot.consecutive_failures, 0u);
}

TEST_F(StateTest, RateLimitedWithQuotaUpdatesReading) {
  state_.record("anonymous", AddressFamily::kAny, okResult(3, kT0));
  ProbeResult limited =
      failedResult(ProbeOutcome::kRateLimited, "registry answered HTTP 429", kT0 + 60s);
  limited.quota = Quota{100, 0, 21600};
  limited.source = "203.0.113.7";
  state_.record("anonymous", AddressFamily::kAny, limited);
  const auto snapshot = state_.snapshot();
  const SlotSnapshot& slot = slotOf(*snapshot, "anonymous", AddressFamily::kAny);
  ASSERT_TRUE(slot.quota.has_value());
  EXPECT_EQ(slot.quota->remaining, 0);
  EXPECT_EQ(slot.observed_at, kT0 + 60s);
  EXPECT_EQ(slot.last_success_at, kT0);
  EXPECT_EQ(slot.consecutive_failures, 1u);
  EXPECT_EQ(slot.probes_total.at(ProbeOutcome::kRateLimited), 1u);
}

TEST_F(StateTest, SourceChangeReplacesSource) {
  state_.record("anonymous", AddressFamily::kAny, okResult(40, kT0, "203.0.113.7"));
  state_.record("anonymous", AddressFamily::kAny, okResult(99, kT0 + 60s, "198.51.100.2"));
  const auto snapshot = state_.snapshot();
  const SlotSnapshot& slot = slotOf(*snapshot, "anonymous", AddressFamily::kAny);
  EXPECT_EQ(slot.source, "198.51.100.2");
  EXPECT_EQ(slot.quota->remaining, 99);
  EXPECT_EQ(slot.observed_at, kT0 + 60s);
}

TEST_F(StateTest, UnlimitedClearsQuota) {
  state_.record("ci", AddressFamily::kIpv6, okResult(40, kT0));
  ProbeResult unlimited;
  unlimited.outcome = ProbeOutcome::kUnlimited;
  unlimited.source = "acme";
  unlimited.finished_at = kT0 + 60s;
  state_.record("ci", AddressFamily::kIpv6, unlimited);
  {
    const auto snapshot = state_.snapshot();
    const SlotSnapshot& slot = slotOf(*snapshot, "ci", AddressFamily::kIpv6);
    EXPECT_FALSE(slot.quota.has_value());
    EXPECT_TRUE(slot.unlimited);
    EXPECT_EQ(slot.source, "acme");
    EXPECT_EQ(slot.observed_at, kT0 + 60s);
    EXPECT_EQ(slot.last_success_at, kT0 + 60s);
    EXPECT_EQ(slot.probes_total.at(ProbeOutcome::kUnlimited), 1u);
  }
  state_.record("ci", AddressFamily::kIpv6, okResult(10, kT0 + 120s));
  const auto snapshot = state_.snapshot();
  const SlotSnapshot& slot = slotOf(*snapshot, "ci", AddressFamily::kIpv6);
  EXPECT_FALSE(slot.unlimited);
  ASSERT_TRUE(slot.quota.has_value());
  EXPECT_EQ(slot.quota->remaining, 10);
}

TEST_F(StateTest, CountsTokenOutcomesPerIdentity) {
  ProbeResult result = okResult(50, kT0);
  result.token_requests = {TokenOutcome::kAuthFailed, TokenOutcome::kOk};
  state_.record("ci", AddressFamily::kIpv4, result);
  result.token_requests = {TokenOutcome::kOk};
  state_.record("ci", AddressFamily::kIpv6, result);
  const auto snapshot = state_.snapshot();
  const auto& ci = snapshot->token_requests_total.at("ci");
  EXPECT_EQ(ci.at(TokenOutcome::kOk), 2u);
  EXPECT_EQ(ci.at(TokenOutcome::kAuthFailed), 1u);
  EXPECT_EQ(ci.at(TokenOutcome::kTimeout), 0u);
  const auto& anonymous = snapshot->token_requests_total.at("anonymous");
  for (TokenOutcome outcome : kAllTokenOutcomes) EXPECT_EQ(anonymous.at(outcome), 0u);
}

TEST_F(StateTest, ReconfigureKeepsRemainingBucketsAndDropsOthers) {
  ProbeResult result = okResult(42, kT0);
  result.token_requests = {TokenOutcome::kOk};
  state_.record("ci", AddressFamily::kIpv4, result);
  state_.record("anonymous", AddressFamily::kAny, okResult(7, kT0));

  Identity ci = ciIdentity();
  ci.config.families = {AddressFamily::kIpv4};
  state_.configure({ci, opsIdentity()}, withThresholds(Thresholds{0.2, 0.05}));

  const auto snapshot = state_.snapshot();
  ASSERT_EQ(snapshot->slots.size(), 2u);
  EXPECT_EQ(snapshot->slots[0].identity, "ci");
  EXPECT_EQ(snapshot->slots[0].family, AddressFamily::kIpv4);
  ASSERT_TRUE(snapshot->slots[0].quota.has_value());
  EXPECT_EQ(snapshot->slots[0].quota->remaining, 42);
  EXPECT_EQ(snapshot->slots[0].probes_total.at(ProbeOutcome::kOk), 1u);
  EXPECT_EQ(snapshot->slots[1].identity, "ops");
  EXPECT_FALSE(snapshot->slots[1].last_outcome.has_value());
  EXPECT_EQ(snapshot->slots[1].probes_total.size(), kAllProbeOutcomes.size());

  EXPECT_EQ(snapshot->token_requests_total.size(), 2u);
  EXPECT_FALSE(snapshot->token_requests_total.contains("anonymous"));
  EXPECT_EQ(snapshot->token_requests_total.at("ci").at(TokenOutcome::kOk), 1u);
  EXPECT_EQ(snapshot->token_requests_total.at("ops").at(TokenOutcome::kOk), 0u);
  EXPECT_DOUBLE_EQ(snapshot->thresholds.warning_ratio, 0.2);

  // A removed bucket that comes back starts from nothing.
  state_.configure({anonymousIdentity()}, Config{});
  const auto again = state_.snapshot();
  ASSERT_EQ(again->slots.size(), 1u);
  EXPECT_FALSE(again->slots[0].quota.has_value());
  EXPECT_EQ(again->slots[0].probes_total.at(ProbeOutcome::kOk), 0u);
}

TEST_F(StateTest, IgnoresUnknownBuckets) {
  ProbeResult result = okResult(1, kT0);
  result.token_requests = {TokenOutcome::kOk};
  state_.record("nobody", AddressFamily::kAny, result);
  state_.record("ci", AddressFamily::kAny, result);  // ci is probed on ipv4 and ipv6 only
  state_.record("anonymous", AddressFamily::kIpv4, result);
  const auto snapshot = state_.snapshot();
  ASSERT_EQ(snapshot->slots.size(), 3u);
  for (const SlotSnapshot& slot : snapshot->slots) {
    EXPECT_FALSE(slot.last_outcome.has_value()) << slot.identity;
    EXPECT_EQ(slot.probes_total.at(ProbeOutcome::kOk), 0u);
  }
  EXPECT_FALSE(snapshot->token_requests_total.contains("nobody"));
  EXPECT_EQ(snapshot->token_requests_total.at("ci").at(TokenOutcome::kOk), 0u);
  EXPECT_EQ(snapshot->token_requests_total.at("anonymous").at(TokenOutcome::kOk), 0u);
}

TEST_F(StateTest, CountsConsecutiveFailures) {
  EXPECT_EQ(state_.consecutiveFailures("ci", AddressFamily::kIpv4), 0u);
  for (int i = 1; i <= 3; ++i) {
    state_.record("ci", AddressFamily::kIpv4,
                  failedResult(ProbeOutcome::kNetworkError, "no route", kT0 + i * 1s));
    EXPECT_EQ(state_.consecutiveFailures("ci", AddressFamily::kIpv4), static_cast<unsigned>(i));
  }
  EXPECT_EQ(state_.consecutiveFailures("ci", AddressFamily::kIpv6), 0u);
  ProbeResult unlimited;
  unlimited.outcome = ProbeOutcome::kUnlimited;
  state_.record("ci", AddressFamily::kIpv4, unlimited);
  EXPECT_EQ(state_.consecutiveFailures("ci", AddressFamily::kIpv4), 0u);
  EXPECT_EQ(state_.consecutiveFailures("nobody", AddressFamily::kAny), 0u);
}

TEST_F(StateTest, RecordsReloads) {
  EXPECT_TRUE(state_.snapshot()->config_last_reload_successful);
  state_.recordReload(true, kT0);
  EXPECT_TRUE(state_.snapshot()->config_last_reload_successful);
  EXPECT_EQ(state_.snapshot()->config_last_reload_success_at, kT0);
  state_.recordReload(false, kT0 + 60s);
  EXPECT_FALSE(state_.snapshot()->config_last_reload_successful);
  EXPECT_EQ(state_.snapshot()->config_last_reload_success_at, kT0);
  state_.recordReload(true, kT0 + 120s);
  EXPECT_TRUE(state_.snapshot()->config_last_reload_successful);
  EXPECT_EQ(state_.snapshot()->config_last_reload_success_at, kT0 + 120s);
}

TEST_F(StateTest, SnapshotsDoNotChangeAfterwards) {
  const auto before = state_.snapshot();
  state_.record("anonymous", AddressFamily::kAny, okResult(10, kT0));
  EXPECT_FALSE(before->slots[0].last_outcome.has_value());
  EXPECT_EQ(state_.snapshot()->slots[0].last_outcome, ProbeOutcome::kOk);
}

}  // namespace
}  // namespace pullguard

namespace pullguard {
namespace {

// The recorded drain story of issue 4: a bucket of 100 with a 2 h window drains at one pull a
// minute until it is empty; the pulls come back two hours after they were made. Probed every
// minute, with one stray "full" reading on the way down.
TEST(StateAlerts, ADrainWarnsEarlyGoesCriticalBeforeZeroAndResolvesOnceAfterTheRefill) {
  State state;
  state.configure({anonymousIdentity()}, Config{});  // warning 20 %, critical 5 %, horizon 1 h
  std::vector<int> pulled_at;                        // minutes
  std::vector<AlertEvent> events;
  for (int minute = 0; minute <= 260; ++minute) {
    const auto in_window =
        std::count_if(pulled_at.begin(), pulled_at.end(), [&](int t) { return t > minute - 120; });
    int remaining = 100 - static_cast<int>(in_window);
    if (minute >= 1 && remaining > 0 && minute <= 100) {
      pulled_at.push_back(minute);
      --remaining;
    }
    ProbeResult result =
        okResult(minute == 50 ? 100 : remaining, kT0 + std::chrono::minutes(minute));
    result.quota->window_seconds = 7200;
    RecordOutcome outcome = state.record("anonymous", AddressFamily::kAny, result);
    if (outcome.alert) events.push_back(*outcome.alert);
  }
  // Down the levels and back up, each change once: no flapping, and the stray full reading at
  // minute 50 resolved nothing.
  std::vector<AlertLevel> levels;
  for (const AlertEvent& event : events) levels.push_back(event.level);
  ASSERT_EQ(levels, (std::vector<AlertLevel>{AlertLevel::kWarning, AlertLevel::kCritical,
                                             AlertLevel::kExhausted, AlertLevel::kCritical,
                                             AlertLevel::kWarning, AlertLevel::kOk}));
  EXPECT_EQ(events[0].level, AlertLevel::kWarning);
  // The forecast warned while a full horizon of pulls was still left, long before the 20 % line.
  ASSERT_TRUE(events[0].remaining);
  EXPECT_GE(*events[0].remaining, 55);
  ASSERT_TRUE(events[0].exhaustion_seconds);
  EXPECT_LE(*events[0].exhaustion_seconds, 3600);
  EXPECT_NE(events[0].reason.find("empty in ~"), std::string::npos) << events[0].reason;
  EXPECT_EQ(events[1].level, AlertLevel::kCritical);
  EXPECT_GT(*events[1].remaining, 0);
  EXPECT_EQ(events[2].level, AlertLevel::kExhausted);
  EXPECT_EQ(events[3].kind, AlertEventKind::kFiring);
  EXPECT_EQ(events[3].previous_level, AlertLevel::kExhausted);
  EXPECT_EQ(events[5].kind, AlertEventKind::kResolved);
  EXPECT_EQ(events[5].previous_level, AlertLevel::kWarning);
  EXPECT_GE(*events[5].remaining, 26);  // 20 % plus the 5 % hysteresis
  const auto snapshot = state.snapshot();
  EXPECT_EQ(snapshot->alerts_total.at(AlertLevel::kWarning), 2u);
  EXPECT_EQ(snapshot->alerts_total.at(AlertLevel::kOk), 1u);
  EXPECT_EQ(snapshot->slots[0].alert_level, AlertLevel::kOk);
}

TEST(StateAlerts, AFiringAlertRepeatsAtTheInterval) {
  State state;
  Config config;
  config.alerts.repeat_interval_seconds = 600;
  state.configure({anonymousIdentity()}, config);
  int repeats = 0;
  for (int minute = 0; minute <= 30; ++minute) {
    auto outcome = state.record("anonymous", AddressFamily::kAny,
                                okResult(10, kT0 + std::chrono::minutes(minute)));
    if (outcome.alert && outcome.alert->kind == AlertEventKind::kRepeat) ++repeats;
  }
  EXPECT_EQ(repeats, 3);  // at 10, 20 and 30 minutes
}

TEST(StateAlerts, HistoryRestoredAtStartGivesTheForecastBeforeTheFirstProbe) {
  State before;
  before.configure({anonymousIdentity()}, Config{});
  for (int minute = 0; minute <= 20; ++minute) {
    before.record("anonymous", AddressFamily::kAny,
                  okResult(100 - minute, kT0 + std::chrono::minutes(minute)));
  }
  State after;
  after.configure({anonymousIdentity()}, Config{});
  after.restore(before.histories(), kT0 + std::chrono::minutes(20));
  const auto snapshot = after.snapshot();
  const SlotSnapshot& slot = snapshot->slots[0];
  EXPECT_EQ(slot.forecast.history_points, 21u);
  EXPECT_NEAR(slot.forecast.short_rate, 1.0 / 60, 1e-9);
  ASSERT_TRUE(slot.quota);
  EXPECT_EQ(slot.quota->remaining, 80);
  EXPECT_EQ(slot.source, "203.0.113.7");
  EXPECT_FALSE(slot.last_outcome);  // still waiting for its first probe
}

TEST(StateAlerts, ANewSourceStartsANewHistory) {
  State state;
  state.configure({anonymousIdentity()}, Config{});
  for (int minute = 0; minute <= 5; ++minute) {
    state.record("anonymous", AddressFamily::kAny,
                 okResult(100 - minute, kT0 + std::chrono::minutes(minute)));
  }
  state.record("anonymous", AddressFamily::kAny,
               okResult(100, kT0 + std::chrono::minutes(6), "198.51.100.9"));
  EXPECT_EQ(state.snapshot()->slots[0].forecast.history_points, 1u);
  EXPECT_EQ(state.histories()[0].source, "198.51.100.9");
}

TEST(StateAlerts, NotificationAndStorageCounters) {
  State state;
  state.configure({anonymousIdentity()}, Config{});
  state.setNotificationSinks({"log", "ops"}, {"success", "failure"});
  state.recordNotification("ops", "failure");
  state.recordNotification("gone", "success");  // not configured: ignored
  state.recordStorageWrite(false);
  state.setNotificationSinks({"ops"}, {"success", "failure"});
  const auto snapshot = state.snapshot();
  EXPECT_EQ(snapshot->notifications_total.size(), 1u);
  EXPECT_EQ(snapshot->notifications_total.at("ops").at("failure"), 1u);
  EXPECT_EQ(snapshot->notifications_total.at("ops").at("success"), 0u);
  EXPECT_EQ(snapshot->storage_writes_total.at("failure"), 1u);
  EXPECT_EQ(snapshot->storage_writes_total.at("success"), 0u);
}

}  // namespace
}  // namespace pullguard

namespace pullguard {
namespace {

TEST(StateAlerts, AFiringLevelRestoredAtStartRepeatsWithoutAnnouncingAgain) {
  Config config;
  config.alerts.repeat_interval_seconds = 600;
  State before;
  before.configure({anonymousIdentity()}, config);
  before.record("anonymous", AddressFamily::kAny, okResult(10, kT0));
  State after;
  after.configure({anonymousIdentity()}, config);
  after.restore(before.histories(), kT0 + std::chrono::minutes(1));
  EXPECT_EQ(after.snapshot()->slots[0].alert_level, AlertLevel::kWarning);
  // No second "firing" for a level announced before the restart ...
  EXPECT_FALSE(
      after.record("anonymous", AddressFamily::kAny, okResult(10, kT0 + std::chrono::minutes(2)))
          .alert);
  // ... but the repeats carry on.
  const auto repeat =
      after.record("anonymous", AddressFamily::kAny, okResult(10, kT0 + std::chrono::minutes(11)));
  ASSERT_TRUE(repeat.alert);
  EXPECT_EQ(repeat.alert->kind, AlertEventKind::kRepeat);
}

}  // namespace
}  // namespace pullguard
