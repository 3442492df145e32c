// Prometheus exposition of the agent's state: a Collectable that builds fresh metric families
// from one snapshot per scrape, so a bucket whose source changed leaves no stale series.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "snapshot.hpp"

namespace pullguard {

std::vector<prometheus::MetricFamily> buildMetricFamilies(const Snapshot& snapshot);

class SnapshotCollector final : public prometheus::Collectable {
 public:
  explicit SnapshotCollector(const SnapshotPublisher& publisher) : publisher_(publisher) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    return buildMetricFamilies(*publisher_.latest());
  }

 private:
  const SnapshotPublisher& publisher_;
};

// The text exposition format (0.0.4) of the collector's families.
std::string renderPrometheusText(const prometheus::Collectable& collectable);

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace pullguard
