// Loads every file of tests/testdata/bad_configs through loadConfig() and compares the error
// with the line expected.txt gives for it (the line the binary prints before exiting 78).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "config_loader.hpp"

namespace pullguard {
namespace {

const std::filesystem::path kBadConfigDir =
    std::filesystem::path(PULLGUARD_TESTDATA_DIR) / "bad_configs";

struct Expectation {
  std::string file;
  std::string error;
};

std::vector<Expectation> readExpectations() {
  std::ifstream in(kBadConfigDir / "expected.txt");
  std::vector<Expectation> expectations;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const auto tab = line.find('\t');
    if (tab == std::string::npos) {
      ADD_FAILURE() << "expected.txt line without a tab: " << line;
      continue;
    }
    expectations.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  return expectations;
}

TEST(BadConfigs, EachFileFailsWithItsExpectedLine) {
  // password_env_unset.json names this variable; it must stay unset for the test to mean
  // anything.
  ::unsetenv("PULLGUARD_TEST_SURELY_UNSET_VAR");
  const std::vector<Expectation> expectations = readExpectations();
  ASSERT_GE(expectations.size(), 25u);
  for (const Expectation& expectation : expectations) {
    SCOPED_TRACE(expectation.file);
    const LoadResult result = loadConfig((kBadConfigDir / expectation.file).string());
    EXPECT_FALSE(result.loaded.has_value());
    EXPECT_EQ(result.error, expectation.error);
  }
}

TEST(BadConfigs, EveryFileIsListedOnce) {
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(kBadConfigDir)) {
    if (entry.path().extension() == ".json") files.insert(entry.path().filename().string());
  }
  std::set<std::string> listed;
  for (const Expectation& expectation : readExpectations()) {
    EXPECT_TRUE(listed.insert(expectation.file).second) << "listed twice: " << expectation.file;
    EXPECT_TRUE(files.contains(expectation.file)) << "no such file: " << expectation.file;
  }
  for (const std::string& file : files) {
    EXPECT_TRUE(listed.contains(file)) << "not in expected.txt: " << file;
  }
}

TEST(BadConfigs, InvalidJsonLineNamesThePosition) {
  for (const Expectation& expectation : readExpectations()) {
    if (expectation.file != "invalid_json.json") continue;
    EXPECT_TRUE(expectation.error.starts_with("config: invalid JSON: parse error at line 2, "))
        << expectation.error;
    return;
  }
  ADD_FAILURE() << "invalid_json.json is not in expected.txt";
}

}  // namespace
}  // namespace pullguard
