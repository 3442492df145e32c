#include "token_cache.hpp"

#include <algorithm>

namespace pullguard {
namespace {
constexpr std::chrono::seconds kMaxPlausibleSkew{60};
}  // namespace

std::chrono::seconds tokenSafetyMargin(std::chrono::seconds lifetime) {
  return std::min(std::chrono::seconds(30), lifetime / 10);
}

std::optional<std::string> TokenCache::validToken(SteadyTime now) const {
  std::lock_guard lock(mutex_);
  if (!expiry_ || now >= *expiry_ || token_.empty()) return std::nullopt;
  return token_;
}

void TokenCache::store(const TokenResponse& token, SteadyTime steady_now, WallTime wall_now) {
  const std::chrono::seconds lifetime(token.expires_in_seconds);
  std::chrono::seconds age{0};
  if (token.issued_at) {
    const auto skew = wall_now - *token.issued_at;
    if (skew > std::chrono::seconds(0) && skew <= kMaxPlausibleSkew) {
      age = std::chrono::duration_cast<std::chrono::seconds>(skew);
    }
  }
  std::lock_guard lock(mutex_);
  token_ = token.token;
  expiry_ = steady_now + lifetime - age - tokenSafetyMargin(lifetime);
}

void TokenCache::invalidate(const std::string& token) {
  std::lock_guard lock(mutex_);
  if (token != token_) return;
  token_.clear();
  expiry_.reset();
}

std::optional<BearerChallenge> TokenCache::challenge() const {
  std::lock_guard lock(mutex_);
  return challenge_;
}

void TokenCache::rememberChallenge(BearerChallenge challenge) {
  std::lock_guard lock(mutex_);
  challenge_ = std::move(challenge);
}

std::optional<TokenCache::SteadyTime> TokenCache::expiry() const {
  std::lock_guard lock(mutex_);
  return expiry_;
}

}  // namespace pullguard
