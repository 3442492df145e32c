#include "config_loader.hpp"

#include "alerts/alerts_config.hpp"
#include "secret_source.hpp"

namespace pullguard {

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
    SecretRead password = readSecretEnv(identity.password_env, field + ".password_env");
    if (!password.value) return {std::nullopt, password.error, ""};
    return {BasicCredentials{identity.username, std::move(*password.value)}, "", ""};
  }
  if (!identity.password_file.empty()) {
    SecretRead password = readSecretFile(identity.password_file, field + ".password_file");
    if (!password.value) return {std::nullopt, password.error, ""};
    return {BasicCredentials{identity.username, std::move(*password.value)}, "", password.warning};
  }
  if (!identity.docker_config.empty()) {
    const std::string path = field + ".docker_config";
    SecretRead file = readSecretDocument(identity.docker_config, path);
    if (!file.value) return {std::nullopt, file.error, ""};
    DockerConfigResult parsed = parseDockerConfig(*file.value, urlHost(registry_url));
    if (!parsed.credentials) {
      return {std::nullopt, path + ": " + secretPath(identity.docker_config) + ": " + parsed.error};
    }
    return {std::move(parsed.credentials), "", file.warning};
  }
  return {};
}

LoadResult loadConfig(const std::string& path) {
  LoadedConfig loaded;
  if (path.empty()) {
    loaded.config = defaultConfig();
  } else {
    FileRead file = readTextFile(path);
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
  ResolveSinksResult sinks = resolveAlertSinks(loaded.config.alerts);
  if (!sinks.error.empty()) return {std::nullopt, "config: " + sinks.error};
  for (std::string& warning : sinks.warnings) loaded.warnings.push_back(std::move(warning));
  loaded.alert_sinks = std::move(sinks.sinks);
  return {std::move(loaded), ""};
}

}  // namespace pullguard
