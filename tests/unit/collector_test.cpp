#include "prometheus/collector.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "version.hpp"

namespace pullguard {
namespace {

using namespace std::chrono_literals;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using LabelMap = std::map<std::string, std::string>;

const std::chrono::system_clock::time_point kObserved =
    std::chrono::system_clock::time_point(1'700'000'000s);
const std::chrono::system_clock::time_point kReloaded =
    std::chrono::system_clock::time_point(1'699'999'000s);

SlotSnapshot freshSlot(std::string identity, AddressFamily family) {
  SlotSnapshot slot;
  slot.identity = std::move(identity);
  slot.family = family;
  for (ProbeOutcome outcome : kAllProbeOutcomes) slot.probes_total[outcome] = 0;
  return slot;
}

// anonymous/any: ok with quota; ops/ipv4: unlimited; ci/ipv6: never probed; ci/ipv4: last probe
// timed out, with a quota (without window) kept from before.
Snapshot sampleSnapshot() {
  Snapshot snapshot;
  SlotSnapshot anonymous = freshSlot("anonymous", AddressFamily::kAny);
  anonymous.last_outcome = ProbeOutcome::kOk;
  anonymous.last_duration_seconds = 0.25;
  anonymous.last_probe_at = kObserved;
  anonymous.quota = Quota{100, 76, 21600};
  anonymous.source = "203.0.113.7";
  anonymous.observed_at = kObserved;
  anonymous.last_success_at = kObserved;
  anonymous.probes_total[ProbeOutcome::kOk] = 3;
  anonymous.probes_total[ProbeOutcome::kTimeout] = 1;

  SlotSnapshot ops = freshSlot("ops", AddressFamily::kIpv4);
  ops.last_outcome = ProbeOutcome::kUnlimited;
  ops.last_duration_seconds = 0.5;
  ops.unlimited = true;
  ops.source = "acme-paid";
  ops.observed_at = kObserved;
  ops.last_success_at = kObserved;
  ops.probes_total[ProbeOutcome::kUnlimited] = 1;

  SlotSnapshot never = freshSlot("ci", AddressFamily::kIpv6);

  SlotSnapshot failing = freshSlot("ci", AddressFamily::kIpv4);
  failing.last_outcome = ProbeOutcome::kTimeout;
  failing.last_error = "Operation timed out";
  failing.last_duration_seconds = 10;
  failing.quota = Quota{200, 150, std::nullopt};
  failing.source = "acme-ci";
  failing.observed_at = kObserved - 60s;
  failing.last_success_at = kObserved - 60s;
  failing.probes_total[ProbeOutcome::kOk] = 1;
  failing.probes_total[ProbeOutcome::kTimeout] = 2;
  failing.consecutive_failures = 2;

  snapshot.slots = {anonymous, ops, never, failing};
  for (const std::string identity : {"anonymous", "ops", "ci"}) {
    for (TokenOutcome outcome : kAllTokenOutcomes) {
      snapshot.token_requests_total[identity][outcome] = 0;
    }
  }
  snapshot.token_requests_total["anonymous"][TokenOutcome::kOk] = 2;
  snapshot.token_requests_total["ci"][TokenOutcome::kAuthFailed] = 4;
  snapshot.config_last_reload_successful = true;
  snapshot.config_last_reload_success_at = kReloaded;
  return snapshot;
}

LabelMap labelsOf(const ClientMetric& metric) {
  LabelMap labels;
  for (const auto& label : metric.label) {
    EXPECT_TRUE(labels.emplace(label.name, label.value).second) << "repeated label " << label.name;
  }
  return labels;
}

const MetricFamily* findFamily(const std::vector<MetricFamily>& families, const std::string& name) {
  const MetricFamily* found = nullptr;
  for (const MetricFamily& family : families) {
    if (family.name != name) continue;
    EXPECT_EQ(found, nullptr) << "family twice: " << name;
    found = &family;
  }
  return found;
}

const ClientMetric* findMetric(const MetricFamily& family, const LabelMap& labels) {
  for (const ClientMetric& metric : family.metric) {
    if (labelsOf(metric) == labels) return &metric;
  }
  return nullptr;
}

LabelMap slot(const std::string& identity, const std::string& family) {
  return {{"identity", identity}, {"family", family}};
}

LabelMap bucket(const std::string& identity, const std::string& family, const std::string& source) {
  return {{"identity", identity}, {"family", family}, {"source", source}};
}

class CollectorTest : public ::testing::Test {
 protected:
  const MetricFamily& family(const std::string& name, MetricType type) {
    const MetricFamily* found = findFamily(families_, name);
    if (found == nullptr) {
      ADD_FAILURE() << "no family " << name;
      static const MetricFamily kEmpty;
      return kEmpty;
    }
    EXPECT_EQ(found->type, type) << name;
    EXPECT_FALSE(found->help.empty()) << name;
    return *found;
  }

  // The family holds exactly these series, with these values.
  void expectSeries(const std::string& name, MetricType type,
                    const std::vector<std::pair<LabelMap, double>>& series) {
    SCOPED_TRACE(name);
    const MetricFamily& f = family(name, type);
    EXPECT_EQ(f.metric.size(), series.size());
    for (const auto& [labels, value] : series) {
      const ClientMetric* metric = findMetric(f, labels);
      if (metric == nullptr) {
        ADD_FAILURE() << "missing series with " << labels.size() << " labels, value " << value;
        continue;
      }
      const double actual =
          type == MetricType::Counter ? metric->counter.value : metric->gauge.value;
      EXPECT_DOUBLE_EQ(actual, value);
    }
  }

  std::vector<MetricFamily> families_ = buildMetricFamilies(sampleSnapshot());
};

TEST_F(CollectorTest, QuotaGaugesCarryIdentityFamilyAndSource) {
  expectSeries(
      "pullguard_ratelimit_limit", MetricType::Gauge,
      {{bucket("anonymous", "any", "203.0.113.7"), 100}, {bucket("ci", "ipv4", "acme-ci"), 200}});
  expectSeries(
      "pullguard_ratelimit_remaining", MetricType::Gauge,
      {{bucket("anonymous", "any", "203.0.113.7"), 76}, {bucket("ci", "ipv4", "acme-ci"), 150}});
  // ci/ipv4 read no w= parameter: no window series rather than a guess.
  expectSeries("pullguard_ratelimit_window_seconds", MetricType::Gauge,
               {{bucket("anonymous", "any", "203.0.113.7"), 21600}});
}

TEST_F(CollectorTest, QuotaHelpSaysValuesAreCached) {
  for (const char* name : {"pullguard_ratelimit_limit", "pullguard_ratelimit_remaining",
                           "pullguard_ratelimit_window_seconds"}) {
    const MetricFamily& f = family(name, MetricType::Gauge);
    EXPECT_NE(f.help.find("cached"), std::string::npos) << name << ": " << f.help;
  }
}

TEST_F(CollectorTest, UnlimitedGaugePerObservedBucket) {
  expectSeries("pullguard_ratelimit_unlimited", MetricType::Gauge,
               {{slot("anonymous", "any"), 0}, {slot("ops", "ipv4"), 1}, {slot("ci", "ipv4"), 0}});
  expectSeries("pullguard_ratelimit_observed_timestamp_seconds", MetricType::Gauge,
               {{slot("anonymous", "any"), 1'700'000'000},
                {slot("ops", "ipv4"), 1'700'000'000},
                {slot("ci", "ipv4"), 1'699'999'940}});
}

TEST_F(CollectorTest, ProbeGaugesSkipBucketsNeverProbed) {
  expectSeries("pullguard_probe_success", MetricType::Gauge,
               {{slot("anonymous", "any"), 1}, {slot("ops", "ipv4"), 1}, {slot("ci", "ipv4"), 0}});
  expectSeries(
      "pullguard_probe_duration_seconds", MetricType::Gauge,
      {{slot("anonymous", "any"), 0.25}, {slot("ops", "ipv4"), 0.5}, {slot("ci", "ipv4"), 10}});
  expectSeries("pullguard_last_success_timestamp_seconds", MetricType::Gauge,
               {{slot("anonymous", "any"), 1'700'000'000},
                {slot("ops", "ipv4"), 1'700'000'000},
                {slot("ci", "ipv4"), 1'699'999'940}});
}

TEST_F(CollectorTest, ProbesTotalHasEveryOutcomeOfEveryBucket) {
  const MetricFamily& probes = family("pullguard_probes_total", MetricType::Counter);
  EXPECT_EQ(probes.metric.size(), 4 * kAllProbeOutcomes.size());
  for (const auto& [identity, family_name] :
       {std::pair{"anonymous", "any"}, {"ops", "ipv4"}, {"ci", "ipv6"}, {"ci", "ipv4"}}) {
    for (ProbeOutcome outcome : kAllProbeOutcomes) {
      LabelMap labels = slot(identity, family_name);
      labels["outcome"] = std::string(outcomeName(outcome));
      EXPECT_NE(findMetric(probes, labels), nullptr)
          << identity << "/" << family_name << "/" << outcomeName(outcome);
    }
  }
  const auto value = [&](const char* identity, const char* family_name, const char* outcome) {
    LabelMap labels = slot(identity, family_name);
    labels["outcome"] = outcome;
    const ClientMetric* metric = findMetric(probes, labels);
    return metric ? metric->counter.value : -1.0;
  };
  EXPECT_DOUBLE_EQ(value("anonymous", "any", "ok"), 3);
  EXPECT_DOUBLE_EQ(value("anonymous", "any", "timeout"), 1);
  EXPECT_DOUBLE_EQ(value("anonymous", "any", "bad_response"), 0);
  EXPECT_DOUBLE_EQ(value("ops", "ipv4", "unlimited"), 1);
  EXPECT_DOUBLE_EQ(value("ci", "ipv6", "ok"), 0);
  EXPECT_DOUBLE_EQ(value("ci", "ipv4", "timeout"), 2);
}

TEST_F(CollectorTest, TokenRequestsByIdentityAndOutcome) {
  const MetricFamily& tokens = family("pullguard_token_requests_total", MetricType::Counter);
  EXPECT_EQ(tokens.metric.size(), 3 * kAllTokenOutcomes.size());
  for (const ClientMetric& metric : tokens.metric) {
    const LabelMap labels = labelsOf(metric);
    EXPECT_EQ(labels.size(), 2u);
    EXPECT_TRUE(labels.contains("identity"));
    EXPECT_TRUE(labels.contains("outcome"));
  }
  const ClientMetric* ok = findMetric(tokens, {{"identity", "anonymous"}, {"outcome", "ok"}});
  ASSERT_NE(ok, nullptr);
  EXPECT_DOUBLE_EQ(ok->counter.value, 2);
  const ClientMetric* refused =
      findMetric(tokens, {{"identity", "ci"}, {"outcome", "auth_failed"}});
  ASSERT_NE(refused, nullptr);
  EXPECT_DOUBLE_EQ(refused->counter.value, 4);
  const ClientMetric* none = findMetric(tokens, {{"identity", "ops"}, {"outcome", "timeout"}});
  ASSERT_NE(none, nullptr);
  EXPECT_DOUBLE_EQ(none->counter.value, 0);
}

TEST_F(CollectorTest, AgentFamilies) {
  expectSeries("pullguard_config_last_reload_successful", MetricType::Gauge, {{LabelMap{}, 1}});
  expectSeries("pullguard_config_last_reload_success_timestamp_seconds", MetricType::Gauge,
               {{LabelMap{}, 1'699'999'000}});
  expectSeries("pullguard_build_info", MetricType::Gauge,
               {{LabelMap{{"version", kVersion}, {"revision", kRevision}}, 1}});
  EXPECT_FALSE(std::string(kVersion).empty());
  EXPECT_FALSE(std::string(kRevision).empty());
}

TEST(BuildMetricFamilies, FailedReloadIsZero) {
  Snapshot snapshot;
  snapshot.config_last_reload_successful = false;
  const auto families = buildMetricFamilies(snapshot);
  const MetricFamily* reload = findFamily(families, "pullguard_config_last_reload_successful");
  ASSERT_NE(reload, nullptr);
  ASSERT_EQ(reload->metric.size(), 1u);
  EXPECT_DOUBLE_EQ(reload->metric[0].gauge.value, 0);
}

TEST(BuildMetricFamilies, EmptySnapshotHasNoBucketSeries) {
  const auto families = buildMetricFamilies(Snapshot{});
  for (const MetricFamily& f : families) {
    if (f.name.starts_with("pullguard_config_") || f.name == "pullguard_build_info") {
      EXPECT_EQ(f.metric.size(), 1u) << f.name;
    } else {
      EXPECT_TRUE(f.metric.empty()) << f.name;
    }
    EXPECT_TRUE(f.name.starts_with("pullguard_")) << f.name;
  }
}

TEST(RenderPrometheusText, ExposesTheSnapshot) {
  SnapshotPublisher publisher;
  publisher.publish(std::make_shared<const Snapshot>(sampleSnapshot()));
  const SnapshotCollector collector(publisher);
  const std::string text = renderPrometheusText(collector);

  for (
      const std::string line : {
          "# TYPE pullguard_ratelimit_remaining gauge",
          "# TYPE pullguard_probes_total counter",
          "# TYPE pullguard_token_requests_total counter",
          R"(pullguard_ratelimit_remaining{identity="anonymous",family="any",source="203.0.113.7"} 76)",
          R"(pullguard_ratelimit_limit{identity="ci",family="ipv4",source="acme-ci"} 200)",
          R"(pullguard_ratelimit_unlimited{identity="ops",family="ipv4"} 1)",
          R"(pullguard_probe_success{identity="ci",family="ipv4"} 0)",
          R"(pullguard_probes_total{identity="anonymous",family="any",outcome="ok"} 3)",
          R"(pullguard_token_requests_total{identity="ci",outcome="auth_failed"} 4)",
          "pullguard_config_last_reload_successful 1",
      }) {
    EXPECT_NE(text.find("\n" + line + "\n"), std::string::npos) << line << "\n" << text;
  }
  EXPECT_EQ(text.find(R"(pullguard_ratelimit_limit{identity="ops")"), std::string::npos);
  EXPECT_EQ(text.find(R"(pullguard_probe_success{identity="ci",family="ipv6"})"),
            std::string::npos);
  EXPECT_NE(text.find(R"(pullguard_build_info{version=")" + std::string(kVersion) +
                      R"(",revision=")" + kRevision + R"("} 1)"),
            std::string::npos)
      << text;
}

TEST(RenderPrometheusText, FollowsThePublishedSnapshot) {
  SnapshotPublisher publisher;
  const SnapshotCollector collector(publisher);
  EXPECT_EQ(renderPrometheusText(collector).find("pullguard_probes_total{"), std::string::npos);
  publisher.publish(std::make_shared<const Snapshot>(sampleSnapshot()));
  EXPECT_NE(renderPrometheusText(collector).find("pullguard_probes_total{"), std::string::npos);
}

}  // namespace
}  // namespace pullguard
