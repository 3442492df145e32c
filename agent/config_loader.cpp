#include "config_loader.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pullguard {
namespace {

struct FileRead {
  std::optional<std::string> text;
  std::string error;
  bool world_readable = false;
};

FileRead readFile(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return {std::nullopt, errno == ENOENT ? "no such file" : std::strerror(errno)};
  }
  if (S_ISDIR(info.st_mode)) return {std::nullopt, "is a directory"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {std::nullopt, std::strerror(errno)};
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return {buffer.str(), "", (info.st_mode & S_IROTH) != 0};
}

// A secret file ends with a newline when written by an editor or `echo`; it is not part of
// the password.
std::string trimTrailingNewlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// systemd's LoadCredential= puts secrets in $CREDENTIALS_DIRECTORY, whose path differs per
// unit and boot: a relative secret path is looked up there, so "password_file": "dockerhub"
// works unchanged under the unit.
std::string secretPath(const std::string& path) {
  const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
  if (path.empty() || path.front() == '/' || credentials == nullptr || *credentials == '\0') {
    return path;
  }
  return std::string(credentials) + "/" + path;
}

std::string worldReadableWarning(const std::string& field, const std::string& path) {
  return field + ": " + path + ": readable by every user; restrict it with chmod 600";
}

}  // namespace

std::string urlHost(const std::string& url) {
  std::string_view rest = url;
  if (auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    rest.remove_prefix(scheme + 3);
  }
  return std::string(rest.substr(0, rest.find('/')));
}

CredentialsResult resolveCredentials(const IdentityConfig& identity, const std::string& field,
                                     const std::string& registry_url) {
  if (!identity.password_env.empty()) {
    const std::string path = field + ".password_env";
    const char* value = std::getenv(identity.password_env.c_str());
    if (value == nullptr)
      return {std::nullopt, path + ": " + identity.password_env + " is not set"};
    if (*value == '\0') return {std::nullopt, path + ": " + identity.password_env + " is empty"};
    return {BasicCredentials{identity.username, value}, "", ""};
  }
  if (!identity.password_file.empty()) {
    const std::string path = field + ".password_file";
    const std::string file_path = secretPath(identity.password_file);
    FileRead file = readFile(file_path);
    if (!file.text) return {std::nullopt, path + ": " + file_path + ": " + file.error};
    std::string password = trimTrailingNewlines(std::move(*file.text));
    if (password.empty()) return {std::nullopt, path + ": " + file_path + ": is empty"};
    return {BasicCredentials{identity.username, std::move(password)}, "",
            file.world_readable ? worldReadableWarning(path, file_path) : ""};
  }
  if (!identity.docker_config.empty()) {
    const std::string path = field + ".docker_config";
    const std::string file_path = secretPath(identity.docker_config);
    FileRead file = readFile(file_path);
    if (!file.text) return {std::nullopt, path + ": " + file_path + ": " + file.error};
    DockerConfigResult parsed = parseDockerConfig(*file.text, urlHost(registry_url));
    if (!parsed.credentials) return {std::nullopt, path + ": " + file_path + ": " + parsed.error};
    return {std::move(parsed.credentials), "",
            file.world_readable ? worldReadableWarning(path, file_path) : ""};
  }
  return {};
}

LoadResult loadConfig(const std::string& path) {
  LoadedConfig loaded;
  if (path.empty()) {
    loaded.config = defaultConfig();
  } else {
    FileRead file = readFile(path);
    if (!file.text) return {std::nullopt, "config: " + path + ": " + file.error};
    ConfigResult parsed = parseConfig(*file.text);
    if (!parsed.config) return {std::nullopt, "config: " + parsed.error};
    loaded.config = std::move(*parsed.config);
  }
  for (std::size_t i = 0; i < loaded.config.identities.size(); ++i) {
    const IdentityConfig& identity = loaded.config.identities[i];
    CredentialsResult credentials = resolveCredentials(
        identity, "identities[" + std::to_string(i) + "]", loaded.config.registry.url);
    if (!credentials.error.empty()) return {std::nullopt, "config: " + credentials.error};
    if (!credentials.warning.empty()) loaded.warnings.push_back(credentials.warning);
    loaded.identities.push_back(Identity{identity, std::move(credentials.credentials)});
  }
  return {std::move(loaded), ""};
}

}  // namespace pullguard
