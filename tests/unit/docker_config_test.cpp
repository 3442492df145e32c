#include "docker_config.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pullguard {
namespace {

// base64("hubuser:s3cr:et"), base64("localuser:pw"), base64("nocolon"), base64(":pw")
constexpr const char* kHubAuth = "aHVidXNlcjpzM2NyOmV0";
constexpr const char* kLocalAuth = "bG9jYWx1c2VyOnB3";
constexpr const char* kNoColonAuth = "bm9jb2xvbg==";
constexpr const char* kNoUserAuth = "OnB3";

std::string authsWith(const std::string& key, const std::string& entry) {
  return R"({"auths":{")" + key + R"(":)" + entry + "}}";
}

TEST(ParseDockerConfig, FindsDockerHubUnderEveryKeySpelling) {
  for (const std::string key :
       {"https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io",
        "https://registry-1.docker.io", "HTTPS://Index.Docker.IO/v1/", "http://docker.io/v2/"}) {
    SCOPED_TRACE(key);
    const auto result =
        parseDockerConfig(authsWith(key, R"({"auth":")" + std::string(kHubAuth) + R"("})"), "");
    ASSERT_TRUE(result.credentials.has_value()) << result.error;
    EXPECT_EQ(result.credentials->username, "hubuser");
    EXPECT_EQ(result.credentials->password, "s3cr:et");  // split at the first ':'
  }
}

TEST(ParseDockerConfig, ReadsUsernameAndPasswordFields) {
  const auto result = parseDockerConfig(
      authsWith("https://index.docker.io/v1/", R"({"username":"u","password":"p:w"})"), "");
  ASSERT_TRUE(result.credentials.has_value()) << result.error;
  EXPECT_EQ(result.credentials->username, "u");
  EXPECT_EQ(result.credentials->password, "p:w");
}

TEST(ParseDockerConfig, PrefersConfiguredRegistryEntry) {
  const std::string config = std::string(R"({"auths":{)") +
                             R"("https://index.docker.io/v1/":{"auth":")" + kHubAuth + R"("},)" +
                             R"("http://127.0.0.1:5000/v2/":{"auth":")" + kLocalAuth + R"("}}})";
  const struct {
    std::string registry_host;
    std::string username;
  } cases[] = {
      {"127.0.0.1:5000", "localuser"},
      {"", "hubuser"},
      {"registry-1.docker.io", "hubuser"},
      {"mirror.example:5000", "hubuser"},  // no entry of its own: Docker Hub's
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.registry_host);
    const auto result = parseDockerConfig(config, c.registry_host);
    ASSERT_TRUE(result.credentials.has_value()) << result.error;
    EXPECT_EQ(result.credentials->username, c.username);
  }
}

TEST(ParseDockerConfig, ReportsUnusableConfigs) {
  const std::string hub = "https://index.docker.io/v1/";
  const std::string hint = "; use username with password_file or password_env";
  const struct {
    std::string json;
    std::string registry_host;
    std::string error;
  } cases[] = {
      {"not json", "", "not a JSON object"},
      {"[]", "", "not a JSON object"},
      {R"({"auths":[]})", "", "auths is not a JSON object"},
      {"{}", "", "no credentials for Docker Hub (https://index.docker.io/v1/) in auths"},
      {R"({"auths":{"quay.io":{"auth":"eDp5"}}})", "",
       "no credentials for Docker Hub (https://index.docker.io/v1/) in auths"},
      {"{}", "127.0.0.1:5000",
       "no credentials for Docker Hub (https://index.docker.io/v1/) or 127.0.0.1:5000 in auths"},
      {authsWith(hub, R"({"identitytoken":"secret-identity"})"), "",
       R"(auths["https://index.docker.io/v1/"] has only an identitytoken, which is not )"
       "supported" +
           hint},
      {R"({"auths":{"https://index.docker.io/v1/":{}},"credsStore":"desktop"})", "",
       R"(credential helper "desktop" (credsStore) is not supported)" + hint},
      {R"({"credsStore":"osxkeychain"})", "",
       R"(credential helper "osxkeychain" (credsStore) is not supported)" + hint},
      {R"({"credHelpers":{"registry-1.docker.io":"ecr-login"},"credsStore":"desktop"})", "",
       R"(credential helper "ecr-login" (credHelpers["registry-1.docker.io"]) is not supported)" +
           hint},
      {R"({"credHelpers":{"127.0.0.1:5000":"pass"}})", "127.0.0.1:5000",
       R"(credential helper "pass" (credHelpers["127.0.0.1:5000"]) is not supported)" + hint},
      {authsWith(hub, "{}"), "",
       R"(auths["https://index.docker.io/v1/"] has no auth or username and password)"},
      {authsWith(hub, R"({"username":"u"})"), "",
       R"(auths["https://index.docker.io/v1/"] has no auth or username and password)"},
      {authsWith(hub, "\"x\""), "", R"(auths["https://index.docker.io/v1/"] is not a JSON object)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    const auto result = parseDockerConfig(c.json, c.registry_host);
    EXPECT_FALSE(result.credentials.has_value());
    EXPECT_EQ(result.error, c.error);
  }
}

TEST(ParseDockerConfig, NeverQuotesSecretsInErrors) {
  const std::string label = R"(auths["https://index.docker.io/v1/"])";
  const struct {
    std::string auth;
    std::string error;
    std::string secret;  // must not appear in the error
  } cases[] = {
      {"c2VjcmV0LXBhc3N3b3Jk!", label + ".auth is not valid base64", "c2VjcmV0"},
      {"c2VjcmV0LXBhc3N3b3Jk=", label + ".auth is not valid base64", "c2VjcmV0"},
      {kNoColonAuth, label + ".auth does not decode to user:password", "nocolon"},
      {kNoUserAuth, label + ".auth has an empty username", "OnB3"},
      {"dXNlcjo=", label + ".auth has an empty password", "dXNlcjo"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.error);
    const auto result = parseDockerConfig(
        authsWith("https://index.docker.io/v1/", R"({"auth":")" + c.auth + R"("})"), "");
    EXPECT_FALSE(result.credentials.has_value());
    EXPECT_EQ(result.error, c.error);
    EXPECT_EQ(result.error.find(c.secret), std::string::npos);
  }
}

TEST(ParseDockerConfig, UsesInlineCredentialsDespiteCredsStore) {
  const auto result =
      parseDockerConfig(std::string(R"({"credsStore":"desktop","auths":{"docker.io":{"auth":")") +
                            kHubAuth + R"("}}})",
                        "");
  ASSERT_TRUE(result.credentials.has_value()) << result.error;
  EXPECT_EQ(result.credentials->username, "hubuser");
}

TEST(DecodeBase64, DecodesStandardAlphabet) {
  const struct {
    std::string encoded;
    std::optional<std::string> decoded;
  } cases[] = {
      {"", ""},
      {"QQ==", "A"},
      {"QQ", "A"},
      {"QUI=", "AB"},
      {"QUI", "AB"},
      {"QUJD", "ABC"},
      {"dXNlcjpwYXNzd29yZA==", "user:password"},
      {"+/+/", "\xfb\xff\xbf"},
      {"Q", std::nullopt},
      {"QUJDQ", std::nullopt},
      {"QQ=", std::nullopt},
      {"QUI==", std::nullopt},
      {"Q===", std::nullopt},
      {"=", std::nullopt},
      {"QQ==QQ==", std::nullopt},
      {"-_-_", std::nullopt},  // URL-safe alphabet is not Docker's
      {"QUJD\n", std::nullopt},
      {"QU JD", std::nullopt},
      {std::string("QU\0D", 4), std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.encoded);
    EXPECT_EQ(decodeBase64(c.encoded), c.decoded);
  }
}

}  // namespace
}  // namespace pullguard
