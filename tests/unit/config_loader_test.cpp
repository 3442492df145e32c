#include "config_loader.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pullguard {
namespace {

constexpr const char* kSecret = "Pw-Do-Not-Leak-7731";
// base64("acme-host:Pw-Do-Not-Leak-7731")
constexpr const char* kHostAuth = "YWNtZS1ob3N0OlB3LURvLU5vdC1MZWFrLTc3MzE=";
// base64("Pw-Do-Not-Leak-7731"): no colon
constexpr const char* kSecretOnlyAuth = "UHctRG8tTm90LUxlYWstNzczMQ==";
// base64(":Pw-Do-Not-Leak-7731"): empty username
constexpr const char* kNoUserAuth = "OlB3LURvLU5vdC1MZWFrLTc3MzE=";
constexpr const char* kHubUrl = "https://registry-1.docker.io";
constexpr const char* kEnvName = "PULLGUARD_TEST_CONFIG_LOADER_SECRET";

std::string tempDirectory() {
  const char* dir = std::getenv("TMPDIR");
  return dir && *dir ? dir : "/tmp";
}

// A file made with mkstemp, removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& content, mode_t mode = 0600) {
    std::string pattern = tempDirectory() + "/pullguard-test-XXXXXX";
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) {
      ADD_FAILURE() << "mkstemp failed";
      return;
    }
    path_ = pattern;
    std::size_t written = 0;
    while (written < content.size()) {
      const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    ::close(fd);
    EXPECT_EQ(written, content.size());
    EXPECT_EQ(::chmod(path_.c_str(), mode), 0);
  }
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Sets (or unsets, for nullopt) an environment variable and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::optional<std::string>& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    if (value) {
      ::setenv(name_.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

IdentityConfig fileIdentity(const std::string& path) {
  return IdentityConfig{.name = "ops", .username = "acme-ops", .password_file = path};
}

IdentityConfig envIdentity(const std::string& variable) {
  return IdentityConfig{.name = "ci", .username = "acme-ci", .password_env = variable};
}

IdentityConfig dockerConfigIdentity(const std::string& path) {
  return IdentityConfig{.name = "host", .docker_config = path};
}

std::string hubDockerConfig(const std::string& auth) {
  return R"({"auths": {"https://index.docker.io/v1/": {"auth": ")" + auth + R"("}}})";
}

void expectNoSecret(const std::string& text) {
  EXPECT_EQ(text.find(kSecret), std::string::npos) << text;
  EXPECT_EQ(text.find("Pw-Do-Not"), std::string::npos) << text;
  EXPECT_EQ(text.find(kHostAuth), std::string::npos) << text;
  EXPECT_EQ(text.find(kSecretOnlyAuth), std::string::npos) << text;
  EXPECT_EQ(text.find(kNoUserAuth), std::string::npos) << text;
}

TEST(LoadConfig, EmptyPathIsTheBuiltInDefault) {
  const LoadResult result = loadConfig("");
  ASSERT_TRUE(result.loaded.has_value()) << result.error;
  EXPECT_EQ(result.error, "");
  ASSERT_EQ(result.loaded->identities.size(), 1u);
  EXPECT_EQ(result.loaded->identities[0].config.name, "anonymous");
  EXPECT_FALSE(result.loaded->identities[0].credentials.has_value());
  EXPECT_TRUE(result.loaded->warnings.empty());
  EXPECT_EQ(result.loaded->config.registry.url, kHubUrl);
  EXPECT_EQ(result.loaded->config.web.listen_address, "0.0.0.0:10217");
}

TEST(LoadConfig, MissingFileIsOneLine) {
  const LoadResult result = loadConfig("/nonexistent/pullguard-config.json");
  EXPECT_FALSE(result.loaded.has_value());
  EXPECT_EQ(result.error, "config: /nonexistent/pullguard-config.json: no such file");
}

TEST(LoadConfig, DirectoryIsRejected) {
  std::string pattern = tempDirectory() + "/pullguard-test-dir-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
  const LoadResult result = loadConfig(pattern);
  ::rmdir(pattern.c_str());
  EXPECT_FALSE(result.loaded.has_value());
  EXPECT_EQ(result.error, "config: " + pattern + ": is a directory");
}

TEST(LoadConfig, PrefixesParseErrors) {
  TempFile file(R"({"probe": {"interval_seconds": 5}})");
  const LoadResult result = loadConfig(file.path());
  EXPECT_FALSE(result.loaded.has_value());
  EXPECT_EQ(result.error, "config: probe.interval_seconds: 5 is below the minimum of 10");
}

TEST(LoadConfig, ReadsEverySecretInOrder) {
  ScopedEnv env(kEnvName, std::string("env-secret"));
  TempFile password_file(std::string(kSecret) + "\n");
  TempFile docker_config(hubDockerConfig(kHostAuth));
  TempFile config(R"({"identities": [
      {"name": "anonymous"},
      {"name": "ci", "username": "acme-ci", "password_env": ")" +
                  std::string(kEnvName) + R"(", "families": ["ipv4", "ipv6"]},
      {"name": "ops", "username": "acme-ops", "password_file": ")" +
                  password_file.path() + R"("},
      {"name": "host", "docker_config": ")" +
                  docker_config.path() + R"("}]})");
  const LoadResult result = loadConfig(config.path());
  ASSERT_TRUE(result.loaded.has_value()) << result.error;
  const auto& identities = result.loaded->identities;
  ASSERT_EQ(identities.size(), 4u);
  ASSERT_EQ(result.loaded->config.identities.size(), 4u);

  EXPECT_EQ(identities[0].config.name, "anonymous");
  EXPECT_FALSE(identities[0].credentials.has_value());

  EXPECT_EQ(identities[1].config.name, "ci");
  ASSERT_TRUE(identities[1].credentials.has_value());
  EXPECT_EQ(identities[1].credentials->username, "acme-ci");
  EXPECT_EQ(identities[1].credentials->password, "env-secret");
  EXPECT_EQ(identities[1].config.families.size(), 2u);

  EXPECT_EQ(identities[2].config.name, "ops");
  ASSERT_TRUE(identities[2].credentials.has_value());
  EXPECT_EQ(identities[2].credentials->username, "acme-ops");
  EXPECT_EQ(identities[2].credentials->password, kSecret);

  EXPECT_EQ(identities[3].config.name, "host");
  ASSERT_TRUE(identities[3].credentials.has_value());
  EXPECT_EQ(identities[3].credentials->username, "acme-host");
  EXPECT_EQ(identities[3].credentials->password, kSecret);

  EXPECT_TRUE(result.loaded->warnings.empty());
}

TEST(LoadConfig, CollectsWorldReadableWarnings) {
  TempFile password_file(kSecret, 0644);
  TempFile config(R"({"identities": [{"name": "ops", "username": "acme-ops",
                                      "password_file": ")" +
                  password_file.path() + R"("}]})");
  const LoadResult result = loadConfig(config.path());
  ASSERT_TRUE(result.loaded.has_value()) << result.error;
  ASSERT_EQ(result.loaded->warnings.size(), 1u);
  EXPECT_EQ(result.loaded->warnings[0], "identities[0].password_file: " + password_file.path() +
                                            ": readable by every user; restrict it with chmod 600");
  expectNoSecret(result.loaded->warnings[0]);
}

TEST(LoadConfig, FailsOnTheFirstUnreadableSecret) {
  ScopedEnv env(kEnvName, std::string(kSecret));
  TempFile config(R"({"identities": [
      {"name": "ci", "username": "acme-ci", "password_env": ")" +
                  std::string(kEnvName) + R"("},
      {"name": "ops", "username": "acme-ops", "password_file": "/nonexistent/pullguard-secret"}]})");
  const LoadResult result = loadConfig(config.path());
  EXPECT_FALSE(result.loaded.has_value());
  EXPECT_EQ(result.error,
            "config: identities[1].password_file: /nonexistent/pullguard-secret: no such file");
  expectNoSecret(result.error);
}

TEST(ResolveCredentials, AnonymousHasNone) {
  const CredentialsResult result =
      resolveCredentials(IdentityConfig{.name = "anonymous"}, "identities[0]", kHubUrl);
  EXPECT_FALSE(result.credentials.has_value());
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.warning, "");
}

TEST(ResolveCredentials, ReadsPasswordEnv) {
  ScopedEnv env(kEnvName, std::string(kSecret));
  const CredentialsResult result =
      resolveCredentials(envIdentity(kEnvName), "identities[2]", kHubUrl);
  ASSERT_TRUE(result.credentials.has_value()) << result.error;
  EXPECT_EQ(result.credentials->username, "acme-ci");
  EXPECT_EQ(result.credentials->password, kSecret);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.warning, "");
}

TEST(ResolveCredentials, UnsetOrEmptyPasswordEnvIsAnError) {
  {
    ScopedEnv env(kEnvName, std::nullopt);
    const CredentialsResult result =
        resolveCredentials(envIdentity(kEnvName), "identities[1]", kHubUrl);
    EXPECT_FALSE(result.credentials.has_value());
    EXPECT_EQ(result.error, std::string("identities[1].password_env: ") + kEnvName + " is not set");
  }
  {
    ScopedEnv env(kEnvName, std::string(""));
    const CredentialsResult result =
        resolveCredentials(envIdentity(kEnvName), "identities[1]", kHubUrl);
    EXPECT_FALSE(result.credentials.has_value());
    EXPECT_EQ(result.error, std::string("identities[1].password_env: ") + kEnvName + " is empty");
  }
}

TEST(ResolveCredentials, StripsTrailingNewlinesFromPasswordFile) {
  const struct {
    std::string content;
    std::string password;
  } cases[] = {
      {"s3cret\n", "s3cret"},     {"s3cret\r\n", "s3cret"},   {"s3cret\n\n\n", "s3cret"},
      {"s3cret", "s3cret"},       {" s3 cret ", " s3 cret "}, {"line1\nline2\n", "line1\nline2"},
      {"\ts3cret\n", "\ts3cret"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.password);
    TempFile file(c.content);
    const CredentialsResult result =
        resolveCredentials(fileIdentity(file.path()), "identities[0]", kHubUrl);
    ASSERT_TRUE(result.credentials.has_value()) << result.error;
    EXPECT_EQ(result.credentials->username, "acme-ops");
    EXPECT_EQ(result.credentials->password, c.password);
    EXPECT_EQ(result.warning, "");
  }
}

TEST(ResolveCredentials, EmptyPasswordFileIsAnError) {
  for (const std::string content : {"", "\n", "\r\n\n"}) {
    TempFile file(content);
    const CredentialsResult result =
        resolveCredentials(fileIdentity(file.path()), "identities[3]", kHubUrl);
    EXPECT_FALSE(result.credentials.has_value());
    EXPECT_EQ(result.error, "identities[3].password_file: " + file.path() + ": is empty");
  }
}

TEST(ResolveCredentials, MissingPasswordFileIsAnError) {
  const CredentialsResult result =
      resolveCredentials(fileIdentity("/nonexistent/pullguard-secret"), "identities[0]", kHubUrl);
  EXPECT_FALSE(result.credentials.has_value());
  EXPECT_EQ(result.error,
            "identities[0].password_file: /nonexistent/pullguard-secret: no such file");
}

TEST(ResolveCredentials, WarnsAboutWorldReadablePasswordFile) {
  TempFile file(std::string(kSecret) + "\n", 0644);
  const CredentialsResult result =
      resolveCredentials(fileIdentity(file.path()), "identities[1]", kHubUrl);
  ASSERT_TRUE(result.credentials.has_value()) << result.error;
  EXPECT_EQ(result.credentials->password, kSecret);
  EXPECT_EQ(result.warning, "identities[1].password_file: " + file.path() +
                                ": readable by every user; restrict it with chmod 600");
  expectNoSecret(result.warning);
}

TEST(ResolveCredentials, NoWarningForPrivatePasswordFile) {
  for (const mode_t mode : {0600, 0400, 0640}) {
    TempFile file(kSecret, mode);
    const CredentialsResult result =
        resolveCredentials(fileIdentity(file.path()), "identities[1]", kHubUrl);
    ASSERT_TRUE(result.credentials.has_value()) << result.error;
    EXPECT_EQ(result.warning, "") << std::oct << mode;
  }
}

TEST(ResolveCredentials, ReadsDockerConfigAuth) {
  TempFile file(hubDockerConfig(kHostAuth));
  const CredentialsResult result =
      resolveCredentials(dockerConfigIdentity(file.path()), "identities[3]", kHubUrl);
  ASSERT_TRUE(result.credentials.has_value()) << result.error;
  EXPECT_EQ(result.credentials->username, "acme-host");
  EXPECT_EQ(result.credentials->password, kSecret);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.warning, "");
}

TEST(ResolveCredentials, DockerConfigPrefersTheConfiguredRegistryHost) {
  // base64("reg-user:Pw-Do-Not-Leak-7731")
  TempFile file(R"({"auths": {
      "https://index.docker.io/v1/": {"auth": ")" +
                std::string(kHostAuth) + R"("},
      "registry.example.test:5000": {"auth": "cmVnLXVzZXI6UHctRG8tTm90LUxlYWstNzczMQ=="}}})");
  const CredentialsResult result = resolveCredentials(
      dockerConfigIdentity(file.path()), "identities[0]", "https://registry.example.test:5000");
  ASSERT_TRUE(result.credentials.has_value()) << result.error;
  EXPECT_EQ(result.credentials->username, "reg-user");
  EXPECT_EQ(result.credentials->password, kSecret);
}

TEST(ResolveCredentials, WarnsAboutWorldReadableDockerConfig) {
  TempFile file(hubDockerConfig(kHostAuth), 0644);
  const CredentialsResult result =
      resolveCredentials(dockerConfigIdentity(file.path()), "identities[2]", kHubUrl);
  ASSERT_TRUE(result.credentials.has_value()) << result.error;
  EXPECT_EQ(result.warning, "identities[2].docker_config: " + file.path() +
                                ": readable by every user; restrict it with chmod 600");
  expectNoSecret(result.warning);
}

TEST(ResolveCredentials, MissingDockerConfigIsAnError) {
  const CredentialsResult result = resolveCredentials(
      dockerConfigIdentity("/nonexistent/pullguard-docker.json"), "identities[3]", kHubUrl);
  EXPECT_FALSE(result.credentials.has_value());
  EXPECT_EQ(result.error,
            "identities[3].docker_config: /nonexistent/pullguard-docker.json: no such file");
}

TEST(ResolveCredentials, DockerConfigErrorsNameTheFile) {
  TempFile file(R"({"auths": {}})");
  const CredentialsResult result =
      resolveCredentials(dockerConfigIdentity(file.path()), "identities[0]", kHubUrl);
  EXPECT_FALSE(result.credentials.has_value());
  EXPECT_TRUE(result.error.starts_with("identities[0].docker_config: " + file.path() + ": "))
      << result.error;
  EXPECT_NE(result.error.find("no credentials for Docker Hub"), std::string::npos) << result.error;
}

// Every way reading a secret can fail or warn: the planted password appears in no message.
TEST(ResolveCredentials, NeverQuotesTheSecret) {
  const std::string secret = kSecret;
  const std::vector<std::string> docker_configs = {
      // truncated JSON holding the secret
      R"({"auths": {"https://index.docker.io/v1/": {"auth": ")" + secret,
      // not base64
      hubDockerConfig(secret + "!!"),
      // base64 without a colon
      hubDockerConfig(kSecretOnlyAuth),
      // base64 with an empty username
      hubDockerConfig(kNoUserAuth),
      // identity token only
      R"({"auths": {"https://index.docker.io/v1/": {"identitytoken": ")" + secret + R"("}}})",
      // username without password
      R"({"auths": {"https://index.docker.io/v1/": {"username": "u", "password": ""}}})",
      R"({"auths": {"https://index.docker.io/v1/": {"password": ")" + secret + R"("}}})",
      R"({"auths": {"https://index.docker.io/v1/": ")" + secret + R"("}})",
      R"({"auths": ")" + secret + R"("})",
      R"(")" + secret + R"(")",
  };
  for (const std::string& content : docker_configs) {
    SCOPED_TRACE(content);
    TempFile file(content);
    const CredentialsResult result =
        resolveCredentials(dockerConfigIdentity(file.path()), "identities[0]", kHubUrl);
    EXPECT_FALSE(result.credentials.has_value());
    EXPECT_FALSE(result.error.empty());
    expectNoSecret(result.error);
    expectNoSecret(result.warning);
  }

  // Files the loader rejects or warns about, and an empty variable.
  {
    TempFile file(secret, 0644);
    const CredentialsResult result =
        resolveCredentials(fileIdentity(file.path()), "identities[0]", kHubUrl);
    EXPECT_FALSE(result.warning.empty());
    expectNoSecret(result.warning);
  }
  {
    TempFile file(hubDockerConfig(kHostAuth), 0666);
    const CredentialsResult result =
        resolveCredentials(dockerConfigIdentity(file.path()), "identities[0]", kHubUrl);
    EXPECT_FALSE(result.warning.empty());
    expectNoSecret(result.warning);
  }
  {
    ScopedEnv env(kEnvName, std::string(""));
    const CredentialsResult result =
        resolveCredentials(envIdentity(kEnvName), "identities[0]", kHubUrl);
    EXPECT_FALSE(result.error.empty());
    expectNoSecret(result.error);
  }

  // Config files that hold the secret where it does not belong.
  const std::vector<std::string> configs = {
      R"({"identities": [{"name": "x", "password": ")" + secret + R"("}]})",
      R"({"identities": [{"name": "x", "password": )" + secret + "}]}",
      R"({"identities": [{"name": "x", "username": "u", "password_env": 7}], "x": ")" + secret +
          R"("})",
  };
  for (const std::string& content : configs) {
    SCOPED_TRACE(content);
    TempFile file(content);
    const LoadResult result = loadConfig(file.path());
    EXPECT_FALSE(result.loaded.has_value());
    EXPECT_FALSE(result.error.empty());
    expectNoSecret(result.error);
  }
}

TEST(UrlHost, ReturnsHostAndPort) {
  const struct {
    std::string url;
    std::string host;
  } cases[] = {
      {"https://registry-1.docker.io", "registry-1.docker.io"},
      {"https://registry-1.docker.io/", "registry-1.docker.io"},
      {"http://127.0.0.1:5000", "127.0.0.1:5000"},
      {"http://127.0.0.1:5000/v2/", "127.0.0.1:5000"},
      {"https://[::1]:8443/path", "[::1]:8443"},
      {"registry.example.test/x", "registry.example.test"},
      {"", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.url);
    EXPECT_EQ(urlHost(c.url), c.host);
  }
}

// systemd's LoadCredential= puts secrets in $CREDENTIALS_DIRECTORY: a relative secret path is
// read from there, an absolute one is left alone.
TEST(ResolveCredentials, RelativeSecretPathIsReadFromCredentialsDirectory) {
  TempFile secret("pat-from-credentials\n");
  const std::string directory = secret.path().substr(0, secret.path().rfind('/'));
  const std::string name = secret.path().substr(secret.path().rfind('/') + 1);
  {
    ScopedEnv credentials("CREDENTIALS_DIRECTORY", directory);
    const CredentialsResult relative =
        resolveCredentials(fileIdentity(name), "identities[0]", "https://registry-1.docker.io");
    ASSERT_TRUE(relative.credentials.has_value()) << relative.error;
    EXPECT_EQ(relative.credentials->password, "pat-from-credentials");
    const CredentialsResult absolute = resolveCredentials(
        fileIdentity(secret.path()), "identities[0]", "https://registry-1.docker.io");
    ASSERT_TRUE(absolute.credentials.has_value()) << absolute.error;
  }
  ScopedEnv no_credentials("CREDENTIALS_DIRECTORY", std::nullopt);
  const CredentialsResult outside =
      resolveCredentials(fileIdentity(name), "identities[0]", "https://registry-1.docker.io");
  EXPECT_FALSE(outside.credentials.has_value());  // relative to the working directory instead
}

}  // namespace
}  // namespace pullguard
