// Parses a WWW-Authenticate header into a Bearer challenge (RFC 7235 syntax) and builds the
// token request URL from it, as the distribution token spec describes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pullguard {

struct BearerChallenge {
  std::string realm;
  std::string service;  // may be empty
  std::string scope;    // may be empty
};

struct ChallengeParseResult {
  std::optional<BearerChallenge> challenge;
  std::string error;  // one line, when challenge is empty
};

// Accepts several challenges in one header ("Basic realm=\"x\", Bearer realm=...") and picks
// the Bearer one; scheme and parameter names are case-insensitive; values may be quoted
// strings (with backslash escapes) or tokens. A Bearer challenge without realm is an error.
ChallengeParseResult parseBearerChallenge(std::string_view header_value);

// realm?service=<service>&scope=<scope>, percent-encoded; keeps a query string already in the
// realm (appends with '&'). Uses `fallback_scope` when the challenge carries no scope; omits
// empty parameters.
std::string buildTokenUrl(const BearerChallenge& challenge, std::string_view fallback_scope);

}  // namespace pullguard
