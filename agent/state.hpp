// The agent's knowledge, owned by one writer (the event loop thread): per identity and family,
// the last probe, the last good reading and counters. Readers get immutable snapshots.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config_loader.hpp"
#include "probe_result.hpp"
#include "snapshot.hpp"

namespace pullguard {

class State {
 public:
  // Sets the buckets from a (re)loaded configuration. Buckets whose identity and family are
  // still configured keep their readings and counters; the others are dropped, so their
  // series disappear from /metrics.
  void configure(const std::vector<Identity>& identities, const Thresholds& thresholds);

  // Records a finished probe. Unknown (identity, family) pairs are ignored: a probe that was
  // in flight across a reload that removed its identity.
  void record(const std::string& identity, AddressFamily family, const ProbeResult& result);

  void recordReload(bool successful, std::chrono::system_clock::time_point at);

  std::shared_ptr<const Snapshot> snapshot() const;

  // The consecutive failures of a bucket, for the scheduler's backoff.
  std::uint32_t consecutiveFailures(const std::string& identity, AddressFamily family) const;

 private:
  SlotSnapshot* find(const std::string& identity, AddressFamily family);
  const SlotSnapshot* find(const std::string& identity, AddressFamily family) const;

  Snapshot current_;
};

}  // namespace pullguard
