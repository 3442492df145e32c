#include "history_store.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pullguard {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;
using std::chrono::system_clock;

const system_clock::time_point kNow{seconds(1764334800)};

std::vector<StoredBucket> sample() {
  return {{"anonymous",
           AddressFamily::kIpv4,
           "203.0.113.7",
           {{kNow - seconds(60), 100, 100, 21600}, {kNow, 98, 100, 21600}}}};
}

void writeFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Each test gets a fresh directory from mkdtemp, removed with everything in it afterwards.
class HistoryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/pullguard-history-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
    EXPECT_FALSE(fs::exists(root_));
  }

  fs::path root_;
};

TEST_F(HistoryStoreTest, MissingFileOrDirectoryIsNoWarning) {
  EXPECT_EQ(HistoryStore(root_.string()).load().warning, "");
  const auto loaded = HistoryStore((root_ / "absent" / "deeper").string()).load(kNow);
  EXPECT_TRUE(loaded.buckets.empty());
  EXPECT_EQ(loaded.warning, "");
}

TEST_F(HistoryStoreTest, FilePathIsInTheDirectory) {
  EXPECT_EQ(HistoryStore("/var/lib/pullguard/").filePath(), "/var/lib/pullguard/history.json");
  EXPECT_EQ(HistoryStore("/").filePath(), "/history.json");
  EXPECT_EQ(HistoryStore("").filePath(), "./history.json");
}

TEST_F(HistoryStoreTest, SaveThenLoad) {
  const HistoryStore store(root_.string());
  ASSERT_EQ(store.save(sample(), kNow), "");
  const auto loaded = store.load(kNow);
  EXPECT_EQ(loaded.warning, "");
  EXPECT_EQ(loaded.buckets, sample());
  EXPECT_EQ(entries(root_), std::vector<std::string>{"history.json"});
  EXPECT_EQ(fs::status(store.filePath()).permissions(),
            fs::perms::owner_read | fs::perms::owner_write);

  // A second save replaces the first.
  ASSERT_EQ(store.save({}, kNow + seconds(10)), "");
  EXPECT_TRUE(store.load(kNow).buckets.empty());
  EXPECT_EQ(entries(root_), std::vector<std::string>{"history.json"});
}

TEST_F(HistoryStoreTest, CreatesTheLastDirectoryOnly) {
  const fs::path dir = root_ / "state";
  ASSERT_EQ(HistoryStore(dir.string()).save(sample(), kNow), "");
  EXPECT_EQ(fs::status(dir).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(HistoryStore(dir.string()).load(kNow).buckets, sample());

  const fs::path deep = root_ / "missing" / "state";
  EXPECT_EQ(HistoryStore(deep.string()).save(sample(), kNow),
            deep.string() + ": create directory: No such file or directory");
  EXPECT_FALSE(fs::exists(root_ / "missing"));
}

TEST_F(HistoryStoreTest, StaleTempFileFromAKilledSaveIsReplaced) {
  const HistoryStore store(root_.string());
  const fs::path outside = root_ / "outside";
  writeFile(outside, "keep me");
  fs::create_symlink(outside, store.filePath() + ".tmp");
  ASSERT_EQ(store.save(sample(), kNow), "");
  EXPECT_EQ(readFile(outside), "keep me");
  EXPECT_EQ(entries(root_), (std::vector<std::string>{"history.json", "outside"}));
  EXPECT_EQ(store.load(kNow).buckets, sample());
}

TEST_F(HistoryStoreTest, CorruptFileIsSetAside) {
  const HistoryStore store(root_.string());
  writeFile(store.filePath(), R"({"version":1,"saved_at":0,"buckets":[{"Planted-Secret":1}]})");
  const auto loaded = store.load(kNow);
  EXPECT_TRUE(loaded.buckets.empty());
  EXPECT_EQ(loaded.warning, store.filePath() +
                                " is corrupt (buckets[0]: unknown key); set aside as "
                                "history.json.corrupt-1764334800");
  EXPECT_EQ(entries(root_), std::vector<std::string>{"history.json.corrupt-1764334800"});

  // A second one in the same second keeps the first.
  writeFile(store.filePath(), "{");
  EXPECT_EQ(store.load(kNow).warning, store.filePath() +
                                          " is corrupt (not valid JSON (at byte 2)); set aside "
                                          "as history.json.corrupt-1764334800-2");
  EXPECT_EQ(entries(root_), (std::vector<std::string>{"history.json.corrupt-1764334800",
                                                      "history.json.corrupt-1764334800-2"}));
  // And the next save starts afresh.
  ASSERT_EQ(store.save(sample(), kNow), "");
  EXPECT_EQ(store.load(kNow).buckets, sample());
}

TEST_F(HistoryStoreTest, HugeFileIsSetAsideUnread) {
  const HistoryStore store(root_.string());
  writeFile(store.filePath(), "");
  fs::resize_file(store.filePath(), 1ULL << 40);  // sparse: no disk used
  const auto loaded = store.load(kNow);
  EXPECT_TRUE(loaded.buckets.empty());
  EXPECT_EQ(loaded.warning, store.filePath() +
                                " is corrupt (larger than 16 MiB); set aside as "
                                "history.json.corrupt-1764334800");
}

TEST_F(HistoryStoreTest, UnreadableFileIsAWarningAndStaysPut) {
  const HistoryStore store(root_.string());
  fs::create_directory(store.filePath());
  const auto loaded = store.load(kNow);
  EXPECT_TRUE(loaded.buckets.empty());
  EXPECT_EQ(loaded.warning, store.filePath() + ": read: not a regular file");
  EXPECT_TRUE(fs::is_directory(store.filePath()));
}

// Root ignores permission bits, so the unwritable places are ones no mode can open up: a file
// where the directory should be, and procfs. The read-only and full file systems are in
// tests/integration/test_persistence.py.
TEST_F(HistoryStoreTest, SaveIntoAnUnwritablePlaceFailsCleanly) {
  const fs::path not_a_dir = root_ / "file";
  writeFile(not_a_dir, "x");
  EXPECT_EQ(HistoryStore(not_a_dir.string()).save(sample(), kNow),
            not_a_dir.string() + "/history.json: write: Not a directory");
  EXPECT_EQ(entries(root_), std::vector<std::string>{"file"});

  const std::string error = HistoryStore("/proc/self").save(sample(), kNow);
  EXPECT_EQ(error.rfind("/proc/self/history.json: write: ", 0), 0u) << error;
  EXPECT_FALSE(fs::exists("/proc/self/history.json.tmp"));
  EXPECT_NE(HistoryStore("/proc/pullguard-test").save(sample(), kNow), "");
}

}  // namespace
}  // namespace pullguard
