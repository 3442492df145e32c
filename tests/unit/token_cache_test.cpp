#include "token_cache.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace pullguard {
namespace {

using namespace std::chrono_literals;

const TokenCache::SteadyTime kSteadyNow = TokenCache::SteadyTime(5000h);
const TokenCache::WallTime kWallNow = std::chrono::sys_days(std::chrono::year(2024) / 3 / 1) + 9h;

TokenResponse token(std::string value, std::int64_t expires_in,
                    std::optional<TokenCache::WallTime> issued_at = std::nullopt) {
  return TokenResponse{std::move(value), expires_in, issued_at};
}

TEST(TokenSafetyMargin, IsTenPercentCappedAtThirtySeconds) {
  const struct {
    std::chrono::seconds lifetime;
    std::chrono::seconds margin;
  } cases[] = {
      {0s, 0s},    {60s, 6s},   {100s, 10s}, {150s, 15s},
      {299s, 29s}, {300s, 30s}, {301s, 30s}, {3600s, 30s},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(tokenSafetyMargin(c.lifetime), c.margin) << c.lifetime.count();
  }
}

TEST(TokenCache, EmptyCacheHasNothing) {
  const TokenCache cache;
  EXPECT_FALSE(cache.validToken(kSteadyNow).has_value());
  EXPECT_FALSE(cache.expiry().has_value());
  EXPECT_FALSE(cache.challenge().has_value());
}

TEST(TokenCache, ExpiresAfterLifetimeMinusMargin) {
  TokenCache cache;
  cache.store(token("tok", 300), kSteadyNow, kWallNow);
  ASSERT_TRUE(cache.expiry().has_value());
  EXPECT_EQ(*cache.expiry(), kSteadyNow + 270s);
  EXPECT_EQ(cache.validToken(kSteadyNow), "tok");
  EXPECT_EQ(cache.validToken(kSteadyNow + 269s), "tok");
  EXPECT_EQ(cache.validToken(kSteadyNow + 270s - 1ns), "tok");
  EXPECT_FALSE(cache.validToken(kSteadyNow + 270s).has_value());
  EXPECT_FALSE(cache.validToken(kSteadyNow + 1h).has_value());
}

TEST(TokenCache, ShortLifetimeUsesTenPercentMargin) {
  TokenCache cache;
  cache.store(token("tok", 60), kSteadyNow, kWallNow);
  EXPECT_EQ(cache.expiry(), kSteadyNow + 54s);
}

TEST(TokenCache, RecentIssuedAtShortensLife) {
  TokenCache cache;
  cache.store(token("tok", 300, kWallNow - 10s), kSteadyNow, kWallNow);
  EXPECT_EQ(cache.expiry(), kSteadyNow + 260s);
  EXPECT_EQ(cache.validToken(kSteadyNow + 259s), "tok");
  EXPECT_FALSE(cache.validToken(kSteadyNow + 260s).has_value());
}

TEST(TokenCache, IssuedAtWithinAMinuteCounts) {
  TokenCache cache;
  cache.store(token("tok", 300, kWallNow - 60s), kSteadyNow, kWallNow);
  EXPECT_EQ(cache.expiry(), kSteadyNow + 210s);
  cache.store(token("tok", 300, kWallNow - 1500ms), kSteadyNow, kWallNow);
  EXPECT_EQ(cache.expiry(), kSteadyNow + 269s);  // whole seconds
}

TEST(TokenCache, ImplausibleIssuedAtIsIgnored) {
  for (const auto issued_at :
       {kWallNow - 2h, kWallNow - 61s, kWallNow + 10s, kWallNow + 2h, kWallNow}) {
    TokenCache cache;
    cache.store(token("tok", 300, issued_at), kSteadyNow, kWallNow);
    EXPECT_EQ(cache.expiry(), kSteadyNow + 270s)
        << std::chrono::duration_cast<std::chrono::seconds>(kWallNow - issued_at).count();
  }
}

TEST(TokenCache, StoreReplacesToken) {
  TokenCache cache;
  cache.store(token("tok-1", 300), kSteadyNow, kWallNow);
  cache.store(token("tok-2", 600), kSteadyNow + 100s, kWallNow + 100s);
  EXPECT_EQ(cache.validToken(kSteadyNow + 101s), "tok-2");
  EXPECT_EQ(cache.expiry(), kSteadyNow + 100s + 570s);
}

TEST(TokenCache, InvalidateClearsOnlyTheSameToken) {
  TokenCache cache;
  cache.store(token("tok-2", 300), kSteadyNow, kWallNow);
  cache.invalidate("tok-1");  // an older token another family saw rejected
  EXPECT_EQ(cache.validToken(kSteadyNow), "tok-2");
  EXPECT_TRUE(cache.expiry().has_value());
  cache.invalidate("");
  EXPECT_EQ(cache.validToken(kSteadyNow), "tok-2");

  cache.invalidate("tok-2");
  EXPECT_FALSE(cache.validToken(kSteadyNow).has_value());
  EXPECT_FALSE(cache.expiry().has_value());
}

TEST(TokenCache, InvalidateKeepsChallenge) {
  TokenCache cache;
  cache.rememberChallenge({"https://auth.docker.io/token", "registry.docker.io", ""});
  cache.store(token("tok", 300), kSteadyNow, kWallNow);
  cache.invalidate("tok");
  ASSERT_TRUE(cache.challenge().has_value());
  EXPECT_EQ(cache.challenge()->realm, "https://auth.docker.io/token");
}

TEST(TokenCache, RemembersLastChallenge) {
  TokenCache cache;
  cache.rememberChallenge(
      {"https://auth.docker.io/token", "registry.docker.io", "repository:a/b:pull"});
  ASSERT_TRUE(cache.challenge().has_value());
  EXPECT_EQ(cache.challenge()->realm, "https://auth.docker.io/token");
  EXPECT_EQ(cache.challenge()->service, "registry.docker.io");
  EXPECT_EQ(cache.challenge()->scope, "repository:a/b:pull");

  cache.rememberChallenge({"https://auth.example.test/v2/token", "", ""});
  ASSERT_TRUE(cache.challenge().has_value());
  EXPECT_EQ(cache.challenge()->realm, "https://auth.example.test/v2/token");
  EXPECT_EQ(cache.challenge()->service, "");
  EXPECT_EQ(cache.challenge()->scope, "");
  EXPECT_FALSE(cache.validToken(kSteadyNow).has_value());
}

}  // namespace
}  // namespace pullguard
