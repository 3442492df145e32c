// The budget history's file format: JSON text to buckets of observations and back. Pure, so it
// is tested with literal text and fuzzed; history_store does the file I/O around it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "address_family.hpp"
#include "observation.hpp"

namespace pullguard {

inline constexpr int kHistoryVersion = 1;
// Caps that keep a huge or hostile file from exhausting memory. A real history is far smaller:
// one observation per probe interval (>= 10 s) over a window of hours, for a handful of buckets.
inline constexpr std::size_t kMaxHistoryBytes = 16 * 1024 * 1024;
inline constexpr std::size_t kMaxHistoryBuckets = 1000;
inline constexpr std::size_t kMaxObservationsPerBucket = 10000;

struct StoredBucket {
  std::string identity;
  AddressFamily family = AddressFamily::kAny;
  std::string source;
  std::vector<Observation> observations;  // oldest first

  bool operator==(const StoredBucket&) const = default;
};

// {"version":1,"saved_at":<unix s>,"buckets":[{"identity":..,"family":"any","source":..,
//  "observations":[[unix_seconds, remaining, limit, window_seconds], ...]}]}
// Times are stored to the millisecond. Only what parseHistory accepts is written, so a save can
// never produce a file the next start sets aside: observations parseHistory would refuse
// (negative numbers, remaining > limit, before 1970) are left out, each bucket's observations
// are sorted by time and cut to its newest kMaxObservationsPerBucket, buckets past
// kMaxHistoryBuckets and repeats of an (identity, family) pair are left out. Bytes that are not
// UTF-8 in a name are replaced by U+FFFD.
std::string serializeHistory(const std::vector<StoredBucket>& buckets,
                             std::chrono::system_clock::time_point saved_at);

struct HistoryParse {
  std::optional<std::vector<StoredBucket>> buckets;
  std::chrono::system_clock::time_point saved_at{};  // valid with buckets
  std::string error;  // one line naming the place and the problem, never the file's content
};

// Strict: anything serializeHistory would not write is an error, including unknown or missing
// keys, a repeated (identity, family), and sizes past the caps above.
HistoryParse parseHistory(std::string_view text);

// Drops, in each bucket, observations older than max(window, keep_at_least) before `now`, where
// window is the newest observation's window_seconds, and observations after `now` (the clock
// went back: they would sort after every new one). Buckets left empty are dropped.
void pruneHistory(std::vector<StoredBucket>& buckets, std::chrono::system_clock::time_point now,
                  std::chrono::seconds keep_at_least);

}  // namespace pullguard
