// Remembers one identity's registry token and the challenge it came from, so probes reuse the
// token for its lifetime (one token request per identity per lifetime, whatever the number of
// families). Shared by the identity's probe slots, which run on different workers: locked.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "challenge.hpp"
#include "token.hpp"

namespace pullguard {

class TokenCache {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;

  // The token, while `now` is before its expiry.
  std::optional<std::string> validToken(SteadyTime now) const;

  // Stores a token received at (steady_now, wall_now). Expiry is issued_at + expires_in minus a
  // safety margin; issued_at counts only when it is within a minute of our clock, because a
  // skewed registry clock must neither keep a dead token nor throw away a live one.
  void store(const TokenResponse& token, SteadyTime steady_now, WallTime wall_now);

  // The registry rejected `token` (revoked, or our expiry guess was wrong): forget it, unless
  // another family has already replaced it with a newer one.
  void invalidate(const std::string& token);

  // Held while fetching a token, so the families of one identity that need a token at the
  // same moment make one request, not one each.
  std::mutex& fetchMutex() { return fetch_mutex_; }

  // The last challenge seen; lets a probe fetch a new token without a 401 round trip.
  std::optional<BearerChallenge> challenge() const;
  void rememberChallenge(BearerChallenge challenge);

  // When the cached token expires (for tests and the debug log).
  std::optional<SteadyTime> expiry() const;

 private:
  mutable std::mutex mutex_;
  std::mutex fetch_mutex_;
  std::string token_;
  std::optional<SteadyTime> expiry_;
  std::optional<BearerChallenge> challenge_;
};

// Seconds before expiry at which a token is no longer used: 10% of its lifetime, at most 30 s.
std::chrono::seconds tokenSafetyMargin(std::chrono::seconds lifetime);

}  // namespace pullguard
