// One probe of one identity over one address family, exactly as a real client checks its
// budget: HEAD the manifest, answer a Bearer challenge with a (cached) token, read the
// rate-limit headers. Never a GET on a manifest: a GET spends the budget it measures.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "address_family.hpp"
#include "clock.hpp"
#include "config.hpp"
#include "docker_config.hpp"
#include "http_client.hpp"
#include "probe_result.hpp"
#include "token_cache.hpp"

namespace pullguard {

// The media types a pull accepts; a registry answers 404 to a HEAD that accepts none of the
// manifest's type (distribution does for OCI manifests).
inline constexpr const char* kManifestAccept =
    "Accept: application/vnd.oci.image.index.v1+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

struct ProbeTarget {
  RegistryConfig registry;
  AddressFamily family = AddressFamily::kAny;
  std::optional<BasicCredentials> credentials;  // empty: anonymous
  std::chrono::milliseconds timeout{10'000};
};

class Prober {
 public:
  // `tokens` is shared by every family of the identity; `clock` outlives the prober.
  Prober(ProbeTarget target, std::shared_ptr<TokenCache> tokens, std::unique_ptr<HttpClient> http,
         const Clock& clock);

  // Blocking: call on a worker thread, at most one call at a time per Prober.
  ProbeResult run();

  const ProbeTarget& target() const { return target_; }
  const std::shared_ptr<TokenCache>& tokens() const { return tokens_; }

 private:
  struct TokenFetch {
    std::optional<std::string> token;
    std::optional<ProbeResult> failure;
  };

  std::string manifestUrl() const;
  HttpResponse headManifest(const std::optional<std::string>& token);
  // A valid cached token other than `rejected`, or a new one from the token endpoint.
  TokenFetch obtainToken(const BearerChallenge& challenge, const std::string& rejected,
                         ProbeResult& result);
  TokenFetch fetchToken(const BearerChallenge& challenge, ProbeResult& result);
  ProbeResult classify(const HttpResponse& response, ProbeResult result) const;

  ProbeTarget target_;
  std::shared_ptr<TokenCache> tokens_;
  std::unique_ptr<HttpClient> http_;
  const Clock& clock_;
};

// A token request may carry a password only over https, or to this host (loopback tests).
bool mayCarryCredentials(const std::string& url);

}  // namespace pullguard
