#include "docker_config.hpp"

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <utility>

namespace pullguard {
namespace {

using Json = nlohmann::json;

// The key `docker login` writes for Docker Hub, and the hosts that mean Docker Hub too.
constexpr std::string_view kHubKey = "https://index.docker.io/v1/";
constexpr std::array<std::string_view, 4> kHubHosts = {
    "index.docker.io", "docker.io", "registry-1.docker.io", "registry.hub.docker.com"};
constexpr std::string_view kSupportedHint = "use username with password_file or password_env";

std::string lowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

// "https://Index.Docker.io/v1/" -> "index.docker.io": config keys are written both as URLs and
// as bare hosts, so only the host[:port] is compared.
std::string normaliseHost(std::string_view key) {
  if (const auto scheme = key.find("://"); scheme != std::string_view::npos) {
    key.remove_prefix(scheme + 3);
  }
  return lowerAscii(key.substr(0, key.find('/')));
}

bool isHubHost(std::string_view host) {
  for (const auto hub : kHubHosts) {
    if (host == hub) return true;
  }
  return false;
}

// Keys and helper names come from a file the operator wrote; bound them before they reach a log.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') continue;
    if (out.size() == 60) return out + "...";
    out += c;
  }
  return out;
}

std::string entryLabel(std::string_view key) { return "auths[\"" + printable(key) + "\"]"; }

// Empty when the member is absent or not a string.
std::string_view stringMember(const Json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return {};
  return it->get_ref<const Json::string_t&>();
}

std::string identityTokenError(const std::string& label) {
  return label + " has only an identitytoken, which is not supported; " +
         std::string(kSupportedHint);
}

DockerConfigResult failure(std::string error) { return {std::nullopt, std::move(error)}; }

// Neither the encoded nor the decoded text may appear in an error: both hold the password.
DockerConfigResult decodeAuth(std::string_view auth, const std::string& label,
                              bool has_identity_token) {
  const auto decoded = decodeBase64(auth);
  if (!decoded) return failure(label + ".auth is not valid base64");
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return failure(label + ".auth does not decode to user:password");
  BasicCredentials credentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
  if (credentials.username.empty()) return failure(label + ".auth has an empty username");
  if (credentials.password.empty()) {
    return failure(has_identity_token ? identityTokenError(label)
                                      : label + ".auth has an empty password");
  }
  return {std::move(credentials), {}};
}

// Both fields empty means the entry holds nothing usable (e.g. `{}` next to a credsStore).
DockerConfigResult readEntry(const Json& entry, const std::string& label) {
  if (!entry.is_object()) return failure(label + " is not a JSON object");
  const bool has_identity_token = !stringMember(entry, "identitytoken").empty();
  if (const auto auth = stringMember(entry, "auth"); !auth.empty()) {
    return decodeAuth(auth, label, has_identity_token);
  }
  const auto username = stringMember(entry, "username");
  const auto password = stringMember(entry, "password");
  if (!username.empty() && !password.empty()) {
    return {BasicCredentials{std::string(username), std::string(password)}, {}};
  }
  if (has_identity_token) return failure(identityTokenError(label));
  return {};
}

// The configured registry's own entry first, then Docker Hub's canonical key, then its aliases.
const Json::object_t::value_type* findEntry(const Json::object_t& auths, const std::string& host) {
  if (!host.empty()) {
    for (const auto& item : auths) {
      if (normaliseHost(item.first) == host) return &item;
    }
  }
  if (const auto it = auths.find(std::string(kHubKey)); it != auths.end()) return &*it;
  for (const auto& item : auths) {
    if (isHubHost(normaliseHost(item.first))) return &item;
  }
  return nullptr;
}

std::string helperError(std::string_view helper, std::string_view where) {
  return "credential helper \"" + printable(helper) + "\" (" + std::string(where) +
         ") is not supported; " + std::string(kSupportedHint);
}

// A credHelpers or credsStore setting means the secret lives outside the file.
std::optional<std::string> credentialHelperError(const Json& config, const std::string& host) {
  const auto helpers = config.find("credHelpers");
  if (helpers != config.end() && helpers->is_object()) {
    for (const auto& [key, helper] : helpers->items()) {
      const auto normalised = normaliseHost(key);
      if (!helper.is_string() || (normalised != host && !isHubHost(normalised))) continue;
      return helperError(helper.get_ref<const Json::string_t&>(),
                         "credHelpers[\"" + printable(key) + "\"]");
    }
  }
  if (const auto store = stringMember(config, "credsStore"); !store.empty()) {
    return helperError(store, "credsStore");
  }
  return std::nullopt;
}

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

DockerConfigResult parseDockerConfig(std::string_view json_text, std::string_view registry_host) {
  const Json config = Json::parse(json_text, nullptr, false);
  if (config.is_discarded() || !config.is_object()) return failure("not a JSON object");
  const auto auths = config.find("auths");
  if (auths != config.end() && !auths->is_object() && !auths->is_null()) {
    return failure("auths is not a JSON object");
  }
  const std::string host = normaliseHost(registry_host);
  const Json::object_t::value_type* entry = nullptr;
  if (auths != config.end() && auths->is_object()) {
    entry = findEntry(auths->get_ref<const Json::object_t&>(), host);
  }
  if (entry) {
    auto result = readEntry(entry->second, entryLabel(entry->first));
    if (result.credentials || !result.error.empty()) return result;
  }
  if (auto error = credentialHelperError(config, host)) return failure(std::move(*error));
  if (entry) return failure(entryLabel(entry->first) + " has no auth or username and password");
  std::string error = "no credentials for Docker Hub (" + std::string(kHubKey) + ")";
  if (!host.empty() && !isHubHost(host)) error += " or " + printable(host);
  return failure(error + " in auths");
}

std::optional<std::string> decodeBase64(std::string_view text) {
  std::size_t padding = 0;
  while (padding < 2 && !text.empty() && text.back() == '=') {
    text.remove_suffix(1);
    ++padding;
  }
  // Padding, when present, must complete a 4-character group; one leftover character can
  // never encode a byte.
  if (padding > 0 && (text.size() + padding) % 4 != 0) return std::nullopt;
  if (text.size() % 4 == 1) return std::nullopt;
  std::string decoded;
  decoded.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = base64Value(c);
    if (value < 0) return std::nullopt;
    buffer = ((buffer << 6) | static_cast<std::uint32_t>(value)) & 0xffffffu;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      decoded += static_cast<char>((buffer >> bits) & 0xffu);
    }
  }
  return decoded;
}

}  // namespace pullguard
