// Reads a secret named by the config: an environment variable or a file (a relative file path
// is looked up in systemd's $CREDENTIALS_DIRECTORY). Errors name the field, never the secret.
#pragma once

#include <optional>
#include <string>

namespace pullguard {

struct SecretRead {
  std::optional<std::string> value;  // empty on error
  std::string error;                 // "<field>: <path>: no such file"
  std::string warning;               // "<field>: <path>: readable by every user; ..."
};

// `field` is the config path of the key ("identities[0].password_env") for messages.
SecretRead readSecretEnv(const std::string& variable, const std::string& field);

// Trailing newlines are not part of the secret. A world-readable file gives a warning.
SecretRead readSecretFile(const std::string& configured_path, const std::string& field);

// A whole file that may hold secrets (a Docker config.json), as it is, with the same errors and
// warning. The path is resolved like readSecretFile's.
SecretRead readSecretDocument(const std::string& configured_path, const std::string& field);

// A whole file as text; `error` is one line ("no such file", "is a directory", strerror).
struct FileRead {
  std::optional<std::string> text;
  std::string error;
  bool world_readable = false;
};
FileRead readTextFile(const std::string& path);

// The path readSecretFile opens for `configured_path`.
std::string secretPath(const std::string& configured_path);

}  // namespace pullguard
