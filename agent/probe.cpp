#include "probe.hpp"

#include <algorithm>

#include "ratelimit.hpp"

namespace pullguard {
namespace {

ProbeOutcome fromTransport(TransportError error) {
  switch (error) {
    case TransportError::kTimeout:
      return ProbeOutcome::kTimeout;
    case TransportError::kTooLarge:
      return ProbeOutcome::kBadResponse;
    case TransportError::kNetwork:
    case TransportError::kNone:
      break;
  }
  return ProbeOutcome::kNetworkError;
}

TokenOutcome tokenFromTransport(TransportError error) {
  switch (error) {
    case TransportError::kTimeout:
      return TokenOutcome::kTimeout;
    case TransportError::kTooLarge:
      return TokenOutcome::kBadResponse;
    case TransportError::kNetwork:
    case TransportError::kNone:
      break;
  }
  return TokenOutcome::kNetworkError;
}

ProbeResult failed(ProbeResult result, ProbeOutcome outcome, std::string error) {
  result.outcome = outcome;
  result.error = std::move(error);
  return result;
}

// `authority` is host[:port] of a URL. Userinfo ("127.0.0.1@evil.test") puts the real host
// after the '@', and "127.0.0.1.nip.io" is a name that resolves anywhere: neither is loopback.
bool isLoopbackHost(std::string_view authority) {
  if (authority.find('@') != std::string_view::npos) return false;
  std::string_view host = authority;
  if (auto colon = host.rfind(':'); colon != std::string_view::npos && !host.ends_with(']')) {
    if (host.find_first_not_of("0123456789", colon + 1) != std::string_view::npos) return false;
    host = host.substr(0, colon);  // strip the port
  }
  if (host == "localhost" || host == "[::1]") return true;
  return host.starts_with("127.") && std::count(host.begin(), host.end(), '.') == 3 &&
         host.find_first_not_of("0123456789.") == std::string_view::npos;
}

}  // namespace

bool mayCarryCredentials(const std::string& url) {
  if (url.starts_with("https://")) return true;
  if (!url.starts_with("http://")) return false;
  std::string_view rest = std::string_view(url).substr(7);
  return isLoopbackHost(rest.substr(0, rest.find_first_of("/?#")));
}

Prober::Prober(ProbeTarget target, std::shared_ptr<TokenCache> tokens,
               std::unique_ptr<HttpClient> http, const Clock& clock)
    : target_(std::move(target)),
      tokens_(std::move(tokens)),
      http_(std::move(http)),
      clock_(clock) {}

std::string Prober::manifestUrl() const {
  return target_.registry.url + "/v2/" + target_.registry.repository + "/manifests/" +
         target_.registry.reference;
}

HttpResponse Prober::headManifest(const std::optional<std::string>& token) {
  HttpRequest request;
  request.method = "HEAD";
  request.url = manifestUrl();
  request.headers = {kManifestAccept};
  request.family = target_.family;
  request.timeout = target_.timeout;
  if (token) request.bearer_token = *token;
  return http_->perform(request);
}

Prober::TokenFetch Prober::fetchToken(const BearerChallenge& challenge, ProbeResult& result) {
  const std::string scope = "repository:" + target_.registry.repository + ":pull";
  HttpRequest request;
  request.url = buildTokenUrl(challenge, scope);
  request.family = target_.family;
  request.timeout = target_.timeout;
  if (target_.credentials) {
    if (!mayCarryCredentials(request.url)) {  // no request is sent, so none is counted
      return {std::nullopt,
              failed(result, ProbeOutcome::kAuthFailed,
                     "refusing to send credentials over plain http to " + challenge.realm)};
    }
    request.basic_auth = target_.credentials;
  }
  const HttpResponse response = http_->perform(request);
  if (response.error != TransportError::kNone) {
    result.token_requests.push_back(tokenFromTransport(response.error));
    return {std::nullopt, failed(result, fromTransport(response.error),
                                 "token endpoint: " + response.error_message)};
  }
  if (response.status == 401 || response.status == 403) {
    result.token_requests.push_back(TokenOutcome::kAuthFailed);
    return {std::nullopt,
            failed(result, ProbeOutcome::kAuthFailed,
                   "token endpoint refused the " +
                       std::string(target_.credentials ? "credentials" : "anonymous request") +
                       " (HTTP " + std::to_string(response.status) + ")")};
  }
  if (response.status != 200) {
    result.token_requests.push_back(TokenOutcome::kHttpError);
    const ProbeOutcome outcome =
        response.status == 429 ? ProbeOutcome::kRateLimited : ProbeOutcome::kHttpError;
    return {
        std::nullopt,
        failed(result, outcome, "token endpoint answered HTTP " + std::to_string(response.status))};
  }
  TokenParseResult parsed = parseTokenResponse(response.body);
  if (!parsed.value) {
    result.token_requests.push_back(TokenOutcome::kBadResponse);
    return {std::nullopt,
            failed(result, ProbeOutcome::kBadResponse, "token endpoint: " + parsed.error)};
  }
  result.token_requests.push_back(TokenOutcome::kOk);
  tokens_->store(*parsed.value, clock_.steadyNow(), clock_.wallNow());
  return {parsed.value->token, std::nullopt};
}

Prober::TokenFetch Prober::obtainToken(const BearerChallenge& challenge,
                                       const std::string& rejected, ProbeResult& result) {
  std::lock_guard lock(tokens_->fetchMutex());
  if (auto cached = tokens_->validToken(clock_.steadyNow()); cached && *cached != rejected) {
    return {cached, std::nullopt};  // another family fetched one while we waited
  }
  return fetchToken(challenge, result);
}

ProbeResult Prober::run() {
  const auto started = clock_.steadyNow();
  ProbeResult result;
  auto finish = [&](ProbeResult done) {
    done.duration_seconds = std::chrono::duration<double>(clock_.steadyNow() - started).count();
    done.finished_at = clock_.wallNow();
    return done;
  };

  std::optional<std::string> token = tokens_->validToken(started);
  bool fresh_token = false;
  // A known challenge lets an expired token be replaced without first collecting a 401.
  if (!token) {
    if (auto challenge = tokens_->challenge()) {
      TokenFetch fetch = obtainToken(*challenge, "", result);
      if (fetch.failure) return finish(*fetch.failure);
      token = fetch.token;
      fresh_token = !result.token_requests.empty();
    }
  }

  HttpResponse response = headManifest(token);
  if (response.error == TransportError::kNone && response.status == 401) {
    if (token) tokens_->invalidate(*token);
    if (fresh_token) {
      return finish(
          failed(result, ProbeOutcome::kAuthFailed, "registry refused the token (HTTP 401)"));
    }
    const auto header = findHeader(response.headers, "WWW-Authenticate");
    ChallengeParseResult challenge = parseBearerChallenge(header ? *header : "");
    if (!challenge.challenge) {
      return finish(failed(result, ProbeOutcome::kBadResponse,
                           "registry answered 401 without a usable challenge: " + challenge.error));
    }
    tokens_->rememberChallenge(*challenge.challenge);
    TokenFetch fetch = obtainToken(*challenge.challenge, token.value_or(""), result);
    if (fetch.failure) return finish(*fetch.failure);
    token = fetch.token;
    response = headManifest(token);
  }
  // A token the registry refused is useless to the next probe too: forget it now rather than
  // send it once more.
  const bool refused =
      response.error == TransportError::kNone && (response.status == 401 || response.status == 403);
  if (refused && token) tokens_->invalidate(*token);
  return finish(classify(response, std::move(result)));
}

ProbeResult Prober::classify(const HttpResponse& response, ProbeResult result) const {
  if (response.error != TransportError::kNone) {
    return failed(result, fromTransport(response.error), response.error_message);
  }
  result.http_status = response.status;
  const RateLimitReading reading = parseRateLimit(response.headers);
  result.source = reading.source;
  const std::string status = "HTTP " + std::to_string(response.status);
  if (response.status == 401 || response.status == 403) {
    return failed(result, ProbeOutcome::kAuthFailed, "registry refused the token (" + status + ")");
  }
  if (response.status == 429) {
    // A 429 that still carries the headers says how empty the bucket is: keep that reading.
    if (reading.status == RateLimitStatus::kPresent) {
      result.quota = Quota{reading.limit, reading.remaining, reading.window_seconds};
    }
    return failed(result, ProbeOutcome::kRateLimited, "registry answered " + status);
  }
  if (response.status >= 400 || response.status < 200 || response.status >= 300) {
    return failed(result, ProbeOutcome::kHttpError, "registry answered " + status);
  }
  switch (reading.status) {
    case RateLimitStatus::kPresent:
      result.outcome = ProbeOutcome::kOk;
      result.quota = Quota{reading.limit, reading.remaining, reading.window_seconds};
      return result;
    case RateLimitStatus::kAbsent:
      result.outcome = ProbeOutcome::kUnlimited;
      return result;
    case RateLimitStatus::kMalformed:
      break;
  }
  return failed(result, ProbeOutcome::kBadResponse, reading.error);
}

}  // namespace pullguard
