// Reads Docker Hub credentials out of a Docker CLI config.json. Pure: text in, credentials
// out. Errors name the problem but never contain a secret.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pullguard {

struct BasicCredentials {
  std::string username;
  std::string password;
};

struct DockerConfigResult {
  std::optional<BasicCredentials> credentials;
  std::string error;  // one line, when credentials is empty
};

// Looks in `auths` for Docker Hub's entry: the key "https://index.docker.io/v1/" and the
// spellings that normalise to the same host ("index.docker.io", "docker.io",
// "registry-1.docker.io", with or without scheme and path). When `registry_host` (host[:port]
// of the configured registry URL) has its own entry, that one wins. The entry holds either
// `auth` (base64 of "user:password") or `username` + `password`. An `identitytoken`-only entry,
// a `credsStore`, or a `credHelpers` entry for the host yields a clear "not supported" error.
DockerConfigResult parseDockerConfig(std::string_view json_text, std::string_view registry_host);

// Standard base64 (RFC 4648) with optional padding; nullopt on invalid input.
std::optional<std::string> decodeBase64(std::string_view text);

}  // namespace pullguard
