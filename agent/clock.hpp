// Time as an injected dependency, so token expiry, backoff and ages are tested without sleeping.
// Wall time is for timestamps shown to people and Prometheus; steady time for every duration.
#pragma once

#include <chrono>

namespace pullguard {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point wallNow() const = 0;
  virtual std::chrono::steady_clock::time_point steadyNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point wallNow() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point steadyNow() const override {
    return std::chrono::steady_clock::now();
  }
};

// Seconds since the Unix epoch as a double, the unit of every *_timestamp_seconds value.
inline double toUnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace pullguard
