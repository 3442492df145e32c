// The /metrics body, rendered once per snapshot: snapshots change only when a probe finishes
// or the configuration reloads, while scrapes may come far more often.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "snapshot.hpp"

namespace pullguard {

class MetricsPage {
 public:
  explicit MetricsPage(const SnapshotPublisher& publisher) : publisher_(publisher) {}

  // Thread-safe; called from the web server's threads.
  std::string render();

 private:
  const SnapshotPublisher& publisher_;
  std::mutex mutex_;
  std::shared_ptr<const Snapshot> rendered_for_;
  std::string text_;
};

}  // namespace pullguard
