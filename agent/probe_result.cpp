#include "probe_result.hpp"

namespace pullguard {

std::string_view outcomeName(ProbeOutcome outcome) {
  switch (outcome) {
    case ProbeOutcome::kOk:
      return "ok";
    case ProbeOutcome::kUnlimited:
      return "unlimited";
    case ProbeOutcome::kAuthFailed:
      return "auth_failed";
    case ProbeOutcome::kRateLimited:
      return "rate_limited";
    case ProbeOutcome::kHttpError:
      return "http_error";
    case ProbeOutcome::kTimeout:
      return "timeout";
    case ProbeOutcome::kNetworkError:
      return "network_error";
    case ProbeOutcome::kBadResponse:
      return "bad_response";
  }
  return "network_error";
}

std::string_view tokenOutcomeName(TokenOutcome outcome) {
  switch (outcome) {
    case TokenOutcome::kOk:
      return "ok";
    case TokenOutcome::kAuthFailed:
      return "auth_failed";
    case TokenOutcome::kHttpError:
      return "http_error";
    case TokenOutcome::kTimeout:
      return "timeout";
    case TokenOutcome::kNetworkError:
      return "network_error";
    case TokenOutcome::kBadResponse:
      return "bad_response";
  }
  return "network_error";
}

}  // namespace pullguard
