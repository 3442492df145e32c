#include "challenge.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pullguard {
namespace {

struct ChallengeCase {
  std::string header;
  std::string realm;
  std::string service;
  std::string scope;
};

TEST(ParseBearerChallenge, ReadsValidChallenges) {
  const ChallengeCase cases[] = {
      {R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
       R"(scope="repository:samalba/my-app:pull,push")",
       "https://auth.docker.io/token", "registry.docker.io", "repository:samalba/my-app:pull,push"},
      {R"(bearer REALM="https://a/token")", "https://a/token", "", ""},
      {R"(BEARER Realm="https://a/token", Service="svc")", "https://a/token", "svc", ""},
      {R"(Bearer realm = "https://a/token" , service = "svc")", "https://a/token", "svc", ""},
      {R"(Bearer realm="https://a/token",service=registry.docker.io)", "https://a/token",
       "registry.docker.io", ""},
      {R"(Bearer realm=https://a/token,service=svc)", "https://a/token", "svc", ""},
      {R"(Bearer realm="a\"b\\c\d")", "a\"b\\cd", "", ""},
      {R"(Bearer realm="https://a/token",error="invalid_token",scope="x")", "https://a/token", "",
       "x"},
      {R"(Bearer realm="https://a/token",realm="https://b/token")", "https://a/token", "", ""},
      {R"(Bearer realm="https://a/token",,service="svc",)", "https://a/token", "svc", ""},
      {R"(Bearer realm="https://a/token", scope="repository:a:pull repository:b:pull")",
       "https://a/token", "", "repository:a:pull repository:b:pull"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header);
    const auto result = parseBearerChallenge(c.header);
    ASSERT_TRUE(result.challenge.has_value()) << result.error;
    EXPECT_EQ(result.challenge->realm, c.realm);
    EXPECT_EQ(result.challenge->service, c.service);
    EXPECT_EQ(result.challenge->scope, c.scope);
    EXPECT_EQ(result.error, "");
  }
}

TEST(ParseBearerChallenge, PicksBearerAmongSeveralChallenges) {
  const ChallengeCase cases[] = {
      {R"(Basic realm="registry", Bearer realm="https://a/token",service="svc")", "https://a/token",
       "svc", ""},
      {R"(Bearer realm="https://a/token",service="svc", Basic realm="x, y")", "https://a/token",
       "svc", ""},
      {R"(Negotiate, Bearer realm="https://a/token")", "https://a/token", "", ""},
      {R"(Negotiate YWJjZGVm==, Bearer realm="https://a/token")", "https://a/token", "", ""},
      {R"(Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple", )"
       R"(Bearer realm="https://a/token")",
       "https://a/token", "", ""},
      {R"(Bearer scope="x", Bearer realm="https://a/token")", "https://a/token", "", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header);
    const auto result = parseBearerChallenge(c.header);
    ASSERT_TRUE(result.challenge.has_value()) << result.error;
    EXPECT_EQ(result.challenge->realm, c.realm);
    EXPECT_EQ(result.challenge->service, c.service);
  }
}

TEST(ParseBearerChallenge, RejectsUnusableHeaders) {
  const struct {
    std::string header;
    std::string error;
  } cases[] = {
      {R"(Basic realm="Registry Realm")",
       "no Bearer challenge in WWW-Authenticate (schemes: Basic)"},
      {"", "no Bearer challenge in WWW-Authenticate (header is empty)"},
      {R"(Bearer service="svc",scope="x")", "Bearer challenge in WWW-Authenticate has no realm"},
      {"Bearer", "Bearer challenge in WWW-Authenticate has no realm"},
      {R"(Bearer realm="")", "Bearer challenge in WWW-Authenticate has no realm"},
      {R"(Bearer realm="https://a/token)",
       "malformed WWW-Authenticate: unterminated quoted-string"},
      {R"(Bearer realm="https://a/token\)",
       "malformed WWW-Authenticate: unterminated quoted-string"},
      {"Bearer realm=\"a\r\nX-Injected: 1\"",
       "malformed WWW-Authenticate: control character in quoted-string"},
      {R"(Bearer realm="a" service="b")",
       "malformed WWW-Authenticate: unexpected character at offset 17"},
      {R"(Bearer realm=,service="b")",
       "malformed WWW-Authenticate: unexpected character at offset 21"},
      {"\"Bearer\"", "malformed WWW-Authenticate: unexpected character at offset 0"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header);
    const auto result = parseBearerChallenge(c.header);
    EXPECT_FALSE(result.challenge.has_value());
    EXPECT_EQ(result.error, c.error);
  }
}

TEST(BuildTokenUrl, EncodesParameters) {
  const struct {
    BearerChallenge challenge;
    std::string fallback_scope;
    std::string url;
  } cases[] = {
      {{"https://auth.docker.io/token", "registry.docker.io",
        "repository:ratelimitpreview/test:pull"},
       "",
       "https://auth.docker.io/token?service=registry.docker.io&"
       "scope=repository:ratelimitpreview/test:pull"},
      {{"https://auth.docker.io/token", "registry.docker.io", ""},
       "repository:library/alpine:pull",
       "https://auth.docker.io/token?service=registry.docker.io&"
       "scope=repository:library/alpine:pull"},
      {{"https://a/token", "svc", "repository:samalba/my-app:pull,push"},
       "ignored",
       "https://a/token?service=svc&scope=repository:samalba/my-app:pull%2Cpush"},
      {{"https://a/token?client=x", "svc", ""}, "", "https://a/token?client=x&service=svc"},
      {{"https://a/token?", "svc", ""}, "", "https://a/token?service=svc"},
      {{"https://a/token#frag", "svc", ""}, "", "https://a/token?service=svc"},
      {{"https://a/token", "", ""}, "", "https://a/token"},
      {{"https://a/token", "", ""}, "scope:x", "https://a/token?scope=scope:x"},
      {{"https://a/token", "my service&x=1", ""},
       "",
       "https://a/token?service=my%20service%26x%3D1"},
      {{"https://a/token", "svc", "repository:a:pull repository:b:pull"},
       "",
       "https://a/token?service=svc&scope=repository:a:pull&scope=repository:b:pull"},
      {{"https://a/token", "\xc3\xa9", ""}, "", "https://a/token?service=%C3%A9"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.url);
    EXPECT_EQ(buildTokenUrl(c.challenge, c.fallback_scope), c.url);
  }
}

TEST(BuildTokenUrl, RoundTripsParsedChallenge) {
  const auto result = parseBearerChallenge(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
      R"(scope="repository:samalba/my-app:pull,push")");
  ASSERT_TRUE(result.challenge.has_value());
  EXPECT_EQ(buildTokenUrl(*result.challenge, ""),
            "https://auth.docker.io/token?service=registry.docker.io&"
            "scope=repository:samalba/my-app:pull%2Cpush");
}

}  // namespace
}  // namespace pullguard
