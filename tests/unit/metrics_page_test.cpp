#include "prometheus/metrics_page.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace pullguard {
namespace {

std::shared_ptr<const Snapshot> snapshotWithRemaining(std::int64_t remaining) {
  auto snapshot = std::make_shared<Snapshot>();
  SlotSnapshot slot;
  slot.identity = "anonymous";
  slot.quota = Quota{100, remaining, 21600};
  slot.source = "203.0.113.7";
  slot.observed_at = std::chrono::system_clock::now();
  snapshot->slots.push_back(slot);
  return snapshot;
}

TEST(MetricsPage, RendersTheLatestSnapshot) {
  SnapshotPublisher publisher;
  MetricsPage page(publisher);
  publisher.publish(snapshotWithRemaining(76));
  const std::string first = page.render();
  EXPECT_NE(first.find("pullguard_ratelimit_remaining{identity=\"anonymous\",family=\"any\","
                       "source=\"203.0.113.7\"} 76"),
            std::string::npos)
      << first;
  EXPECT_EQ(page.render(), first);  // same snapshot, same text

  publisher.publish(snapshotWithRemaining(75));
  const std::string second = page.render();
  EXPECT_NE(second.find("source=\"203.0.113.7\"} 75"), std::string::npos) << second;
  EXPECT_EQ(second.find("} 76\n"), std::string::npos);
}

}  // namespace
}  // namespace pullguard
