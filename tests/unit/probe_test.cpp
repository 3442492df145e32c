#include "probe.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pullguard {
namespace {

using namespace std::chrono_literals;

constexpr const char* kManifestUrl =
    "https://registry-1.docker.io/v2/ratelimitpreview/test/manifests/latest";
constexpr const char* kHubRealm = "https://auth.docker.io/token";
constexpr const char* kHubTokenUrl =
    "https://auth.docker.io/token?service=registry.docker.io"
    "&scope=repository:ratelimitpreview/test:pull";
constexpr const char* kSecret = "Pw-Do-Not-Leak-7731";

class FakeClock final : public Clock {
 public:
  std::chrono::system_clock::time_point wallNow() const override { return wall_; }
  std::chrono::steady_clock::time_point steadyNow() const override { return steady_; }

  void advance(std::chrono::milliseconds step) { advance(step, step); }
  void advance(std::chrono::milliseconds steady, std::chrono::milliseconds wall) {
    steady_ += steady;
    wall_ += wall;
  }

 private:
  std::chrono::system_clock::time_point wall_ =
      std::chrono::sys_days(std::chrono::year(2024) / 3 / 1) + 12h;
  std::chrono::steady_clock::time_point steady_ = std::chrono::steady_clock::time_point(1000h);
};

// What the fake client answers and what it was asked; shared with the test, because the
// prober owns the client.
struct HttpScript {
  std::deque<HttpResponse> responses;
  std::vector<HttpRequest> requests;
  FakeClock* clock = nullptr;
  std::chrono::milliseconds step{0};  // the clock advances this much per request
  // The wall clock's advance per request, when it should differ from the steady clock's.
  std::optional<std::chrono::milliseconds> wall_step;
};

class FakeHttpClient final : public HttpClient {
 public:
  explicit FakeHttpClient(std::shared_ptr<HttpScript> script) : script_(std::move(script)) {}

  HttpResponse perform(const HttpRequest& request) override {
    script_->requests.push_back(request);
    if (script_->clock) {
      script_->clock->advance(script_->step, script_->wall_step.value_or(script_->step));
    }
    if (script_->responses.empty()) {
      HttpResponse response;
      response.error = TransportError::kNetwork;
      response.error_message = "unscripted request";
      return response;
    }
    HttpResponse response = std::move(script_->responses.front());
    script_->responses.pop_front();
    return response;
  }

 private:
  std::shared_ptr<HttpScript> script_;
};

std::string hubChallenge(const std::string& realm = kHubRealm) {
  return "Bearer realm=\"" + realm +
         "\",service=\"registry.docker.io\",scope=\"repository:ratelimitpreview/test:pull\"";
}

HttpResponse status(long code, HttpHeaders headers = {}, std::string body = "") {
  HttpResponse response;
  response.status = code;
  response.headers = std::move(headers);
  response.body = std::move(body);
  return response;
}

HttpResponse challenge401(const std::string& realm = kHubRealm) {
  return status(401, {{"Www-Authenticate", hubChallenge(realm)}});
}

HttpResponse tokenReply(const std::string& token, int expires_in = 300) {
  return status(200, {{"Content-Type", "application/json"}},
                R"({"token":")" + token + R"(","expires_in":)" + std::to_string(expires_in) + "}");
}

HttpHeaders quotaHeaders(const std::string& limit, const std::string& remaining,
                         const std::string& source = "203.0.113.7") {
  return {{"RateLimit-Limit", limit},
          {"RateLimit-Remaining", remaining},
          {"Docker-RateLimit-Source", source}};
}

HttpResponse okWithQuota(const std::string& remaining = "76;w=21600") {
  return status(200, quotaHeaders("100;w=21600", remaining));
}

HttpResponse transportFailure(TransportError error, std::string message) {
  HttpResponse response;
  response.error = error;
  response.error_message = std::move(message);
  return response;
}

bool isManifestRequest(const HttpRequest& request) {
  return request.url.find("/manifests/") != std::string::npos;
}

bool hasHeader(const HttpRequest& request, const std::string& header) {
  for (const std::string& h : request.headers) {
    if (h == header) return true;
  }
  return false;
}

using TokenOutcomes = std::vector<TokenOutcome>;

class ProberTest : public ::testing::Test {
 protected:
  ProberTest() { script_->clock = &clock_; }

  std::unique_ptr<Prober> makeProber(std::optional<BasicCredentials> credentials = std::nullopt,
                                     AddressFamily family = AddressFamily::kAny,
                                     RegistryConfig registry = {}) {
    ProbeTarget target{std::move(registry), family, std::move(credentials), 10'000ms};
    return std::make_unique<Prober>(std::move(target), tokens_,
                                    std::make_unique<FakeHttpClient>(script_), clock_);
  }

  void script(std::vector<HttpResponse> responses) {
    for (auto& response : responses) script_->responses.push_back(std::move(response));
  }

  const std::vector<HttpRequest>& requests() const { return script_->requests; }

  // Runs the usual first probe: 401, token "tok-1", 200 with quota.
  ProbeResult firstRun(Prober& prober) {
    script({challenge401(), tokenReply("tok-1"), okWithQuota()});
    ProbeResult result = prober.run();
    EXPECT_EQ(result.outcome, ProbeOutcome::kOk) << result.error;
    EXPECT_EQ(requests().size(), 3u);
    script_->requests.clear();
    return result;
  }

  // Every manifest request is a HEAD that accepts the OCI and Docker manifest types; every
  // other request is a GET of the token endpoint.
  void expectOnlyManifestHeads() const {
    for (const HttpRequest& request : requests()) {
      SCOPED_TRACE(request.url);
      if (isManifestRequest(request)) {
        EXPECT_EQ(request.method, "HEAD");
        EXPECT_TRUE(hasHeader(request, kManifestAccept));
        EXPECT_FALSE(request.basic_auth.has_value());
      } else {
        EXPECT_EQ(request.method, "GET");
        EXPECT_TRUE(request.url.starts_with("http"));
        EXPECT_EQ(request.bearer_token, "");
      }
    }
  }

  FakeClock clock_;
  std::shared_ptr<HttpScript> script_ = std::make_shared<HttpScript>();
  std::shared_ptr<TokenCache> tokens_ = std::make_shared<TokenCache>();
};

TEST_F(ProberTest, AnonymousProbeAnswersChallengeAndReadsQuota) {
  script_->step = 100ms;
  const auto started_wall = clock_.wallNow();
  const auto started_steady = clock_.steadyNow();
  auto prober = makeProber();
  script({challenge401(), tokenReply("tok-1"), okWithQuota()});

  const ProbeResult result = prober->run();

  EXPECT_EQ(result.outcome, ProbeOutcome::kOk);
  ASSERT_TRUE(result.quota.has_value());
  EXPECT_EQ(result.quota->limit, 100);
  EXPECT_EQ(result.quota->remaining, 76);
  EXPECT_EQ(result.quota->window_seconds, 21600);
  EXPECT_EQ(result.source, "203.0.113.7");
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.http_status, 200);
  EXPECT_EQ(result.token_requests, TokenOutcomes{TokenOutcome::kOk});
  EXPECT_DOUBLE_EQ(result.duration_seconds, 0.3);
  EXPECT_EQ(result.finished_at, started_wall + 300ms);

  ASSERT_EQ(requests().size(), 3u);
  EXPECT_EQ(requests()[0].method, "HEAD");
  EXPECT_EQ(requests()[0].url, kManifestUrl);
  EXPECT_EQ(requests()[0].bearer_token, "");
  EXPECT_FALSE(requests()[0].basic_auth.has_value());

  EXPECT_EQ(requests()[1].method, "GET");
  EXPECT_EQ(requests()[1].url, kHubTokenUrl);
  EXPECT_NE(requests()[1].url.find("service=registry.docker.io"), std::string::npos);
  EXPECT_NE(requests()[1].url.find("scope=repository:ratelimitpreview/test:pull"),
            std::string::npos);
  EXPECT_FALSE(requests()[1].basic_auth.has_value());
  EXPECT_EQ(requests()[1].bearer_token, "");

  EXPECT_EQ(requests()[2].method, "HEAD");
  EXPECT_EQ(requests()[2].url, kManifestUrl);
  EXPECT_EQ(requests()[2].bearer_token, "tok-1");
  expectOnlyManifestHeads();

  // Stored when the token reply arrived (after two requests): 300 s minus the 30 s margin.
  ASSERT_TRUE(tokens_->expiry().has_value());
  EXPECT_EQ(*tokens_->expiry(), started_steady + 200ms + 270s);
  ASSERT_TRUE(tokens_->challenge().has_value());
  EXPECT_EQ(tokens_->challenge()->realm, kHubRealm);
  EXPECT_EQ(tokens_->challenge()->service, "registry.docker.io");
}

TEST_F(ProberTest, AcceptHeaderNamesOciAndDockerManifestTypes) {
  const std::string accept = kManifestAccept;
  EXPECT_TRUE(accept.starts_with("Accept: "));
  for (const char* type :
       {"application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json"}) {
    EXPECT_NE(accept.find(type), std::string::npos) << type;
  }
  auto prober = makeProber();
  script({status(200)});
  prober->run();
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].method, "HEAD");
  EXPECT_EQ(requests()[0].headers, std::vector<std::string>{kManifestAccept});
}

TEST_F(ProberTest, ReusesCachedToken) {
  auto prober = makeProber();
  firstRun(*prober);
  clock_.advance(60s);
  script({okWithQuota("75;w=21600")});

  const ProbeResult result = prober->run();

  EXPECT_EQ(result.outcome, ProbeOutcome::kOk);
  ASSERT_TRUE(result.quota.has_value());
  EXPECT_EQ(result.quota->remaining, 75);
  EXPECT_TRUE(result.token_requests.empty());
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].method, "HEAD");
  EXPECT_EQ(requests()[0].url, kManifestUrl);
  EXPECT_EQ(requests()[0].bearer_token, "tok-1");
  expectOnlyManifestHeads();
}

TEST_F(ProberTest, FamiliesShareOneToken) {
  auto ipv4 = makeProber(std::nullopt, AddressFamily::kIpv4);
  auto ipv6 = makeProber(std::nullopt, AddressFamily::kIpv6);
  firstRun(*ipv4);
  script({okWithQuota()});
  const ProbeResult result = ipv6->run();
  EXPECT_EQ(result.outcome, ProbeOutcome::kOk);
  EXPECT_TRUE(result.token_requests.empty());
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].bearer_token, "tok-1");
  EXPECT_EQ(requests()[0].family, AddressFamily::kIpv6);
}

TEST_F(ProberTest, FetchesTokenFromRememberedChallengeAfterExpiry) {
  auto prober = makeProber();
  firstRun(*prober);

  // 300 s lifetime minus a 30 s margin: still good one second before 270 s.
  clock_.advance(269s);
  script({okWithQuota()});
  EXPECT_EQ(prober->run().outcome, ProbeOutcome::kOk);
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].bearer_token, "tok-1");
  script_->requests.clear();

  clock_.advance(1s);
  script({tokenReply("tok-2"), okWithQuota()});
  const ProbeResult result = prober->run();

  EXPECT_EQ(result.outcome, ProbeOutcome::kOk) << result.error;
  EXPECT_EQ(result.token_requests, TokenOutcomes{TokenOutcome::kOk});
  ASSERT_EQ(requests().size(), 2u);  // no 401 round trip
  EXPECT_EQ(requests()[0].method, "GET");
  EXPECT_EQ(requests()[0].url, kHubTokenUrl);
  EXPECT_EQ(requests()[1].method, "HEAD");
  EXPECT_EQ(requests()[1].bearer_token, "tok-2");
  expectOnlyManifestHeads();
}

TEST_F(ProberTest, ExpiresInZeroClampsToSixtySeconds) {
  auto prober = makeProber();
  script({challenge401(), tokenReply("tok-1", 0), okWithQuota()});
  const auto stored_at = clock_.steadyNow();
  ASSERT_EQ(prober->run().outcome, ProbeOutcome::kOk);
  ASSERT_TRUE(tokens_->expiry().has_value());
  EXPECT_EQ(*tokens_->expiry(), stored_at + 60s - 6s);
  script_->requests.clear();

  clock_.advance(53s);
  script({okWithQuota()});
  EXPECT_EQ(prober->run().outcome, ProbeOutcome::kOk);
  ASSERT_EQ(requests().size(), 1u);
  EXPECT_EQ(requests()[0].bearer_token, "tok-1");
  script_->requests.clear();

  clock_.advance(1s);
  script({tokenReply("tok-2"), okWithQuota()});
  EXPECT_EQ(prober->run().outcome, ProbeOutcome::kOk);
  ASSERT_EQ(requests().size(), 2u);
  EXPECT_EQ(requests()[0].url, kHubTokenUrl);
  EXPECT_EQ(requests()[1].bearer_token, "tok-2");
}

TEST_F(ProberTest, ReplacesRejectedCachedTokenOnce) {
  auto prober = makeProber();
  firstRun(*prober);
  script({challenge401(), tokenReply("tok-2"), okWithQuota()});

  const ProbeResult result = prober->run();

  EXPECT_EQ(result.outcome, ProbeOutcome::kOk) << result.error;
  EXPECT_EQ(result.token_requests, TokenOutcomes{TokenOutcome::kOk});
  ASSERT_EQ(requests().size(), 3u);
  EXPECT_EQ(requests()[0].bearer_token, "tok-1");
  EXPECT_EQ(requests()[1].url, kHubTokenUrl);
  EXPECT_EQ(requests()[2].bearer_token, "tok-2");
  EXPECT_EQ(tokens_->validToken(clock_.steadyNow()), "tok-2");
  expectOnlyManifestHeads();
}

TEST_F(ProberTest, ReplacementTokenAlsoRejectedIsAuthFailed) {
  auto prober = makeProber();
  firstRun(*prober);
  script({challenge401(), tokenReply("tok-2"), challenge401(), tokenReply("tok-3")});

  const ProbeResult result = prober->run();

  EXPECT_EQ(result.outcome, ProbeOutcome::kAuthFailed);
  EXPECT_EQ(result.error, "registry refused the token (HTTP 401)");
  EXPECT_EQ(result.http_status, 401);
  EXPECT_EQ(result.token_requests, TokenOutcomes{TokenOutcome::kOk});
  EXPECT_EQ(requests().size(), 3u);  // no second replacement
}

TEST_F(ProberTest, NoLimitHeadersIsUnlimited) {
  auto prober = makeProber();
  script({status(200, {{"Docker-RateLimit-Source", "acme-paid"}})});
  const ProbeResult result = prober->run();
  EXPECT_EQ(result.outcome, ProbeOutcome::kUnlimited);
  EXPECT_FALSE(result.quota.has_value());
  EXPECT_EQ(result.source, "acme-paid");
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.http_status, 200);
  EXPECT_TRUE(result.token_requests.empty());
  EXPECT_TRUE(isSuccess(result.outcome));
}

TEST_F(ProberTest, MalformedHeaderIsBadResponse) {
  const struct {
    HttpHeaders headers;
    std::string error;
  } cases[] = {
      {quotaHeaders("abc", "10"), R"(ratelimit-limit: "abc" is not a count)"},
      {quotaHeaders("100", "-1"), R"(ratelimit-remaining: "-1" is not a count)"},
      {{{"ratelimit-limit", "100"}}, "ratelimit-remaining header missing"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.error);
    auto prober = makeProber();
    script({status(200, c.headers)});
    const ProbeResult result = prober->run();
    EXPECT_EQ(result.outcome, ProbeOutcome::kBadResponse);
    EXPECT_EQ(result.error, c.error);
    EXPECT_FALSE(result.quota.has_value());
    EXPECT_EQ(result.http_status, 200);
  }
}

TEST_F(ProberTest, TooManyRequestsWithHeadersKeepsQuota) {
  auto prober = makeProber();
  script(
      {challenge401(), tokenReply("tok-1"), status(429, quotaHeaders("100;w=21600", "0;w=21600"))});
  const ProbeResult result = prober->run();
  EXPECT_EQ(result.outcome, ProbeOutcome::kRateLimited);
  ASSERT_TRUE(result.quota.has_value());
  EXPECT_EQ(result.quota->limit, 100);
  EXPECT_EQ(result.quota->remaining, 0);
  EXPECT_EQ(result.quota->window_seconds, 21600);
  EXPECT_EQ(result.source, "203.0.113.7");
  EXPECT_EQ(result.error, "registry answered HTTP 429");
  EXPECT_EQ(result.http_status, 429);
  EXPECT_EQ(result.token_requests, TokenOutcomes{TokenOutcome::kOk});
}

TEST_F(ProberTest, TooManyRequestsWithoutHeadersHasNoQuota) {
  auto prober = makeProber();
  script({status(429)});
  const ProbeResult result = prober->run();
  EXPECT_EQ(result.outcome, ProbeOutcome::kRateLimited);
  EXPECT_FALSE(result.quota.has_value());
  EXPECT_EQ(result.error, "registry answered HTTP 429");
  EXPECT_EQ(result.http_status, 429);
}

TEST_F(ProberTest, OtherStatusesAreHttpErrors) {
  for (const long code : {503L, 404L, 500L, 302L}) {
    SCOPED_TRACE(code);
    auto prober = makeProber();
    script({status(code, quotaHeaders("100", "50"))});
    const ProbeResult result = prober->run();
    EXPECT_EQ(result.outcome, ProbeOutcome::kHttpError);
    EXPECT_EQ(result.error, "registry answered HTTP " + std::to_string(code));
    EXPECT_EQ(result.http_status, code);
    EXPECT_FALSE(result.quota.has_value());
  }
}

TEST_F(ProberTest, TokenEndpointRefusingCredentialsIsAuthFailed) {
  auto prober = makeProber(BasicCredentials{"acme-ci", kSecret});
  script({challenge401(), status(401, {}, R"({"details":"incorrect username or password"})")});

  const ProbeResult result = prober->run();

  EXPECT_EQ(result.outcome, ProbeOutcome::kAuthFailed);
  EXPECT_EQ(result.error, "token endpoint refused the credentials (HTTP 401)");
  EXPECT_NE(result.error.find("credentials"), std::string::npos);
  EXPECT_EQ(result.error.find(kSecret), std::string::npos);
  EXPECT_EQ(result.token_requests, TokenOutcomes{TokenOutcome::kAuthFailed});
  EXPECT_EQ(result.http_status, 0);
  ASSERT_EQ(requests().size(), 2u);
  ASSERT_TRUE(requests()[1].basic_auth.has_value());
  EXPECT_EQ(requests()[1].basic_auth->username, "acme-ci");
  EXPECT_EQ(requests()[1].basic_auth->password, kSecret);
  EXPECT_FALSE(tokens_->validToken(clock_.steadyNow()).has_value());
}

TEST_F(ProberTest, TokenEndpointRefusingAnonymousIsAuthFailed) {
  auto prober = makeProber();
  script({challenge401(), status(403)});
  const ProbeResult result = prober->run();
  EXPECT_EQ(result.outcome, ProbeOutcome::kAuthFailed);
  EXPECT_EQ(result.error, "token endpoint refused the anonymous request (HTTP 403)");
  EXPECT_EQ(result.token_requests, TokenOutcomes{TokenOutcome::kAuthFailed});
}

TEST_F(ProberTest, TokenEndpointNonJsonIsBadResponse) {
  auto prober = makeProber();
  script({challenge401(), status(200, {}, "<html>Secret-Body-Text-4411</html>")});
  const ProbeResult result = prober->run();
  EXPECT_EQ(result.outcome, ProbeOutcome::kBadResponse);
  EXPECT_EQ(result.error, "token endpoint: token response is not a JSON object");
  EXPECT_EQ(result.error.find("Secret-Body-Text-4411"), std::string::npos);
  EXPECT_EQ(result.error.find("html"), std::string::npos);
  EXPECT_EQ(result.token_requests, TokenOutcomes{TokenOutcome::kBadResponse});
  EXPECT_EQ(requests().size(), 2u);
}

TEST_F(ProberTest, TokenEndpointErrorStatuses) {
  const struct {
    long code;
    ProbeOutcome outcome;
  } cases[] = {
      {503, ProbeOutcome::kHttpError},
      {500, ProbeOutcome::kHttpError},
      {429, ProbeOutcome::kRateLimited},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.code);
    script_->requests.clear();
    tokens_ = std::make_shared<TokenCache>();  // forget the challenge of the last case
    auto prober = makeProber();
    script({challenge401(), status(c.code)});
    const ProbeResult result = prober->run();
    EXPECT_EQ(result.outcome, c.outcome);
    EXPECT_EQ(result.error, "token endpoint answered HTTP " + std::to_string(c.code));
    EXPECT_EQ(result.token_requests, TokenOutcomes{TokenOutcome::kHttpError});
    EXPECT_EQ(requests().size(), 2u);
  }
}

TEST_F(ProberTest, TransportFailuresOfTheManifestRequest) {
  const struct {
    TransportError error;
    ProbeOutcome outcome;
  } cases[] = {
      {TransportError::kTimeout, ProbeOutcome::kTimeout},
      {TransportError::kNetwork, ProbeOutcome::kNetworkError},
      {TransportError::kTooLarge, ProbeOutcome::kBadResponse},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(outcomeName(c.outcome));
    auto prober = makeProber();
    script({transportFailure(c.error, "curl: the reason")});
    const ProbeResult result = prober->run();
    EXPECT_EQ(result.outcome, c.outcome);
    EXPECT_EQ(result.error, "curl: the reason");
    EXPECT_EQ(result.http_status, 0);
    EXPECT_FALSE(result.quota.has_value());
    EXPECT_TRUE(result.token_requests.empty());
  }
}

TEST_F(ProberTest, TransportFailuresOfTheTokenRequest) {
  const struct {
    TransportError error;
    ProbeOutcome outcome;
    TokenOutcome token;
  } cases[] = {
      {TransportError::kTimeout, ProbeOutcome::kTimeout, TokenOutcome::kTimeout},
      {TransportError::kNetwork, ProbeOutcome::kNetworkError, TokenOutcome::kNetworkError},
      {TransportError::kTooLarge, ProbeOutcome::kBadResponse, TokenOutcome::kBadResponse},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(outcomeName(c.outcome));
    tokens_ = std::make_shared<TokenCache>();  // forget the challenge of the last case
    auto prober = makeProber();
    script({challenge401(), transportFailure(c.error, "Operation timed out")});
    const ProbeResult result = prober->run();
    EXPECT_EQ(result.outcome, c.outcome);
    EXPECT_EQ(result.error, "token endpoint: Operation timed out");
    EXPECT_EQ(result.token_requests, TokenOutcomes{c.token});
  }
}

TEST_F(ProberTest, ManifestRejectingFreshTokenIsAuthFailed) {
  auto prober = makeProber();
  script({challenge401(), tokenReply("tok-1"), status(403)});
  const ProbeResult result = prober->run();
  EXPECT_EQ(result.outcome, ProbeOutcome::kAuthFailed);
  EXPECT_EQ(result.error, "registry refused the token (HTTP 403)");
  EXPECT_EQ(result.http_status, 403);
  EXPECT_EQ(result.token_requests, TokenOutcomes{TokenOutcome::kOk});
  EXPECT_EQ(requests().size(), 3u);
}

// Regression: a fresh token the registry refused stayed cached, and the next probe sent it
// once more before fetching a new one.
TEST_F(ProberTest, RefusedFreshTokenIsNotReused) {
  auto prober = makeProber();
  script({challenge401(), tokenReply("tok-1"), status(403)});
  ASSERT_EQ(prober->run().outcome, ProbeOutcome::kAuthFailed);
  EXPECT_FALSE(tokens_->validToken(clock_.steadyNow()).has_value());

  script_->requests.clear();
  script({tokenReply("tok-2"), okWithQuota()});
  const ProbeResult second = prober->run();
  EXPECT_EQ(second.outcome, ProbeOutcome::kOk);
  ASSERT_EQ(requests().size(), 2u);  // straight to the token endpoint: no HEAD with tok-1
  EXPECT_EQ(requests()[1].bearer_token, "tok-2");
}

TEST_F(ProberTest, ManifestRejectingTokenFromRememberedChallengeIsAuthFailed) {
  auto prober = makeProber();
  firstRun(*prober);
  clock_.advance(300s);
  script({tokenReply("tok-2"), challenge401()});

  const ProbeResult result = prober->run();

  EXPECT_EQ(result.outcome, ProbeOutcome::kAuthFailed);
  EXPECT_EQ(result.error, "registry refused the token (HTTP 401)");
  EXPECT_EQ(result.token_requests, TokenOutcomes{TokenOutcome::kOk});
  ASSERT_EQ(requests().size(), 2u);  // no second token request in the same probe
  EXPECT_EQ(requests()[1].bearer_token, "tok-2");
  EXPECT_FALSE(tokens_->validToken(clock_.steadyNow()).has_value());
}

TEST_F(ProberTest, UnauthorizedWithoutChallengeIsBadResponse) {
  for (const HttpHeaders& headers :
       {HttpHeaders{}, HttpHeaders{{"WWW-Authenticate", "Basic realm=\"registry\""}}}) {
    script_->requests.clear();
    auto prober = makeProber();
    script({status(401, headers)});
    const ProbeResult result = prober->run();
    EXPECT_EQ(result.outcome, ProbeOutcome::kBadResponse);
    EXPECT_TRUE(result.error.starts_with("registry answered 401 without a usable challenge: "))
        << result.error;
    EXPECT_TRUE(result.token_requests.empty());
    EXPECT_EQ(requests().size(), 1u);
  }
}

TEST_F(ProberTest, RefusesCredentialsOverPlainHttpToRemoteRealm) {
  auto prober = makeProber(BasicCredentials{"acme-ci", kSecret});
  script({challenge401("http://auth.example.test/token"), tokenReply("tok-1"), okWithQuota()});

  const ProbeResult result = prober->run();

  EXPECT_EQ(result.outcome, ProbeOutcome::kAuthFailed);
  EXPECT_EQ(result.error,
            "refusing to send credentials over plain http to http://auth.example.test/token");
  // Nothing was sent to the token endpoint, so no token request is counted.
  EXPECT_TRUE(result.token_requests.empty());
  ASSERT_EQ(requests().size(), 1u);
  for (const HttpRequest& request : requests()) EXPECT_FALSE(request.basic_auth.has_value());
}

TEST_F(ProberTest, SendsCredentialsOverHttpsAndToLoopback) {
  for (const std::string realm : {"https://auth.example.test/token", "http://127.0.0.1:5001/token",
                                  "http://localhost/token"}) {
    SCOPED_TRACE(realm);
    script_->requests.clear();
    tokens_ = std::make_shared<TokenCache>();
    auto prober = makeProber(BasicCredentials{"acme-ci", kSecret});
    script({challenge401(realm), tokenReply("tok-1"), okWithQuota()});
    const ProbeResult result = prober->run();
    EXPECT_EQ(result.outcome, ProbeOutcome::kOk) << result.error;
    ASSERT_EQ(requests().size(), 3u);
    EXPECT_TRUE(requests()[1].url.starts_with(realm + "?service=registry.docker.io&scope="));
    ASSERT_TRUE(requests()[1].basic_auth.has_value());
    EXPECT_EQ(requests()[1].basic_auth->username, "acme-ci");
    EXPECT_EQ(requests()[1].basic_auth->password, kSecret);
    EXPECT_EQ(requests()[2].bearer_token, "tok-1");
    expectOnlyManifestHeads();
  }
}

TEST_F(ProberTest, AnonymousMayUsePlainHttpRealm) {
  auto prober = makeProber();
  script({challenge401("http://auth.example.test/token"), tokenReply("tok-1"), okWithQuota()});
  const ProbeResult result = prober->run();
  EXPECT_EQ(result.outcome, ProbeOutcome::kOk) << result.error;
  ASSERT_EQ(requests().size(), 3u);
  EXPECT_FALSE(requests()[1].basic_auth.has_value());
}

TEST_F(ProberTest, PassesFamilyAndTimeoutToEveryRequest) {
  ProbeTarget target{RegistryConfig{}, AddressFamily::kIpv6, std::nullopt, 7'000ms};
  Prober prober(std::move(target), tokens_, std::make_unique<FakeHttpClient>(script_), clock_);
  script({challenge401(), tokenReply("tok-1"), okWithQuota()});
  EXPECT_EQ(prober.run().outcome, ProbeOutcome::kOk);
  clock_.advance(300s);
  script({tokenReply("tok-2"), okWithQuota()});
  EXPECT_EQ(prober.run().outcome, ProbeOutcome::kOk);
  ASSERT_EQ(requests().size(), 5u);
  for (const HttpRequest& request : requests()) {
    SCOPED_TRACE(request.url);
    EXPECT_EQ(request.family, AddressFamily::kIpv6);
    EXPECT_EQ(request.timeout, 7'000ms);
  }
}

TEST_F(ProberTest, BuildsUrlsFromTheConfiguredRegistry) {
  auto prober = makeProber(std::nullopt, AddressFamily::kIpv4,
                           RegistryConfig{"http://127.0.0.1:5000", "library/alpine", "3.19"});
  script({status(401, {{"WWW-Authenticate", R"(Bearer realm="http://127.0.0.1:5001/auth")"}}),
          tokenReply("tok-1"), okWithQuota()});
  EXPECT_EQ(prober->run().outcome, ProbeOutcome::kOk);
  ASSERT_EQ(requests().size(), 3u);
  EXPECT_EQ(requests()[0].url, "http://127.0.0.1:5000/v2/library/alpine/manifests/3.19");
  // Without a scope in the challenge, the prober asks for pull on its repository.
  EXPECT_EQ(requests()[1].url, "http://127.0.0.1:5001/auth?scope=repository:library/alpine:pull");
  EXPECT_EQ(requests()[2].url, "http://127.0.0.1:5000/v2/library/alpine/manifests/3.19");
}

TEST_F(ProberTest, DurationAndFinishTimeComeFromTheClock) {
  script_->step = 250ms;
  const auto started_wall = clock_.wallNow();
  // Wall time jumps (NTP) must not change durations: they are measured on the steady clock.
  script_->wall_step = 7s;
  auto jumping = makeProber();
  script({status(200)});
  const ProbeResult measured = jumping->run();
  EXPECT_DOUBLE_EQ(measured.duration_seconds, 0.25);
  EXPECT_EQ(measured.finished_at, started_wall + 7s);
  script_->wall_step.reset();
  clock_.advance(0ms, -7s);

  auto prober = makeProber();
  script({challenge401(), status(503)});
  const ProbeResult result = prober->run();
  EXPECT_EQ(result.outcome, ProbeOutcome::kHttpError);
  EXPECT_DOUBLE_EQ(result.duration_seconds, 0.5);
  EXPECT_EQ(result.finished_at, started_wall + 500ms);

  // The challenge is remembered: the next probe starts with the token request.
  script_->step = 1250ms;
  script({tokenReply("tok-1"), status(200)});
  const ProbeResult second = prober->run();
  EXPECT_EQ(second.outcome, ProbeOutcome::kUnlimited) << second.error;
  EXPECT_DOUBLE_EQ(second.duration_seconds, 2.5);
  EXPECT_EQ(second.finished_at, started_wall + 3000ms);
}

TEST(MayCarryCredentials, OnlyHttpsOrLoopback) {
  for (const std::string url :
       {"https://auth.docker.io/token", "https://auth.example.test:8443/token?x=1",
        "http://127.0.0.1/token", "http://127.0.0.1:5001/token", "http://127.1.2.3:80/t",
        "http://localhost/token", "http://localhost:8080/token", "http://localhost?x=1",
        "http://[::1]:5000/token", "http://[::1]/token"}) {
    EXPECT_TRUE(mayCarryCredentials(url)) << url;
  }
  for (const std::string url :
       {"http://auth.example.test/token", "http://auth.docker.io/token",
        "http://localhost.example.test/token", "http://127.0.0.1.nip.io/token",
        "http://127.evil.example/token", "http://127.0.0.1@evil.example/token",
        "http://127.0.0.1:80@evil.example/token", "http://localhost:1@evil.example/",
        "http://10.0.0.1/token", "http://[::2]/token", "ftp://127.0.0.1/token", "",
        "auth.docker.io/token", "127.0.0.1/token"}) {
    EXPECT_FALSE(mayCarryCredentials(url)) << url;
  }
}

}  // namespace
}  // namespace pullguard
