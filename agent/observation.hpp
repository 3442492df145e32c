// One reading of a bucket's budget as a probe (or, later, the gate) saw it: the unit of the
// budget model's history and of the state file.
#pragma once

#include <chrono>
#include <cstdint>

namespace pullguard {

struct Observation {
  std::chrono::system_clock::time_point at;  // wall time: history outlives restarts
  std::int64_t remaining = 0;
  std::int64_t limit = 0;
  std::int64_t window_seconds = 0;  // 0 when the registry sent no w=

  bool operator==(const Observation&) const = default;
};

}  // namespace pullguard
