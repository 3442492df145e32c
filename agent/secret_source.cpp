#include "secret_source.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pullguard {
namespace {

std::string worldReadableWarning(const std::string& field, const std::string& path) {
  return field + ": " + path + ": readable by every user; restrict it with chmod 600";
}

}  // namespace

FileRead readTextFile(const std::string& path) {
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

SecretRead readSecretEnv(const std::string& variable, const std::string& field) {
  const char* value = std::getenv(variable.c_str());
  if (value == nullptr) return {std::nullopt, field + ": " + variable + " is not set", ""};
  if (*value == '\0') return {std::nullopt, field + ": " + variable + " is empty", ""};
  return {std::string(value), "", ""};
}

SecretRead readSecretDocument(const std::string& configured_path, const std::string& field) {
  const std::string path = secretPath(configured_path);
  FileRead file = readTextFile(path);
  if (!file.text) return {std::nullopt, field + ": " + path + ": " + file.error, ""};
  return {std::move(file.text), "", file.world_readable ? worldReadableWarning(field, path) : ""};
}

SecretRead readSecretFile(const std::string& configured_path, const std::string& field) {
  SecretRead read = readSecretDocument(configured_path, field);
  if (!read.value) return read;
  // A secret file ends with a newline when written by an editor or `echo`; it is not part of
  // the secret.
  std::string& text = *read.value;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty())
    return {std::nullopt, field + ": " + secretPath(configured_path) + ": is empty", ""};
  return read;
}

}  // namespace pullguard
