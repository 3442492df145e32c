// What one probe learned: its outcome, the quota it read (if any), and the token requests it
// made. A plain value passed from the worker thread that probed to the loop thread that owns
// the state.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pullguard {

enum class ProbeOutcome {
  kOk,
  kUnlimited,    // 200 without limit headers: a paid plan or an exempt image, not an error
  kAuthFailed,   // 401/403 from the token endpoint, or from the registry after a token
  kRateLimited,  // 429
  kHttpError,    // any other status >= 400, or an unexpected one
  kTimeout,
  kNetworkError,  // DNS, connect, TLS, reset, no route for the address family
  kBadResponse,   // headers or token JSON that cannot be parsed
};

inline constexpr std::array kAllProbeOutcomes = {
    ProbeOutcome::kOk,           ProbeOutcome::kUnlimited,  ProbeOutcome::kAuthFailed,
    ProbeOutcome::kRateLimited,  ProbeOutcome::kHttpError,  ProbeOutcome::kTimeout,
    ProbeOutcome::kNetworkError, ProbeOutcome::kBadResponse};

std::string_view outcomeName(ProbeOutcome outcome);

// ok and unlimited are answers; everything else means the budget is not known from this probe.
inline bool isSuccess(ProbeOutcome outcome) {
  return outcome == ProbeOutcome::kOk || outcome == ProbeOutcome::kUnlimited;
}

// Outcomes of a request to the token endpoint, for pullguard_token_requests_total.
enum class TokenOutcome { kOk, kAuthFailed, kHttpError, kTimeout, kNetworkError, kBadResponse };
inline constexpr std::array kAllTokenOutcomes = {
    TokenOutcome::kOk,      TokenOutcome::kAuthFailed,   TokenOutcome::kHttpError,
    TokenOutcome::kTimeout, TokenOutcome::kNetworkError, TokenOutcome::kBadResponse};
std::string_view tokenOutcomeName(TokenOutcome outcome);

struct Quota {
  std::int64_t limit = 0;
  std::int64_t remaining = 0;
  std::optional<std::int64_t> window_seconds;  // from w=; absent when the header had none
};

struct ProbeResult {
  ProbeOutcome outcome = ProbeOutcome::kNetworkError;
  std::optional<Quota> quota;  // set for ok, and for rate_limited when headers came with it
  std::string source;          // docker-ratelimit-source, when the registry sent it
  std::string error;           // one line; empty for ok and unlimited
  long http_status = 0;        // of the manifest HEAD, 0 when none was answered
  double duration_seconds = 0;
  std::chrono::system_clock::time_point finished_at;
  std::vector<TokenOutcome> token_requests;  // made during this probe, in order
};

}  // namespace pullguard
