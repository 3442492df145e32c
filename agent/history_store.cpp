#include "history_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <utility>

namespace pullguard {
namespace {

constexpr const char* kFileName = "history.json";

std::string errorText(int error) { return std::strerror(error); }

// Closes on scope exit, so no early return or exception leaks a descriptor.
class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;

  int get() const { return fd_; }
  // Closing can report a write-back error (NFS), so a save checks it.
  int close() {
    const int fd = std::exchange(fd_, -1);
    return fd >= 0 ? ::close(fd) : 0;
  }

 private:
  int fd_;
};

struct FileRead {
  std::optional<std::string> text;  // empty: missing, unreadable or too large
  bool missing = false;
  bool too_large = false;
  std::string error;  // why it could not be read
};

// Reads at most kMaxHistoryBytes + 1 bytes, so a huge file costs no more memory than that.
FileRead readBounded(const std::string& path) {
  Descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return {std::nullopt, true, false, ""};
    return {std::nullopt, false, false, errorText(errno)};
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return {std::nullopt, false, false, errorText(errno)};
  if (!S_ISREG(info.st_mode)) return {std::nullopt, false, false, "not a regular file"};
  if (static_cast<std::uint64_t>(info.st_size) > kMaxHistoryBytes) {
    return {std::nullopt, false, true, ""};
  }
  std::string text(static_cast<std::size_t>(info.st_size) + 1, '\0');
  std::size_t size = 0;
  while (size <= kMaxHistoryBytes) {
    if (size == text.size()) text.resize(std::min(text.size() * 2, kMaxHistoryBytes + 1));
    const ssize_t n = ::read(fd.get(), text.data() + size, text.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {std::nullopt, false, false, errorText(errno)};
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  if (size > kMaxHistoryBytes) return {std::nullopt, false, true, ""};  // grew while read
  text.resize(size);
  return {std::move(text), false, false, ""};
}

bool exists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

bool writeAll(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

HistoryStore::HistoryStore(std::string directory) : directory_(std::move(directory)) {
  while (directory_.size() > 1 && directory_.back() == '/') directory_.pop_back();
  if (directory_.empty()) directory_ = ".";
  file_path_ = (directory_ == "/" ? "" : directory_) + "/" + kFileName;
  temp_path_ = file_path_ + ".tmp";
}

HistoryStore::Loaded HistoryStore::load(std::chrono::system_clock::time_point now) const {
  try {
    FileRead file = readBounded(file_path_);
    if (file.missing) return {};
    std::string reason;
    if (file.too_large) {
      reason = "larger than " + std::to_string(kMaxHistoryBytes >> 20) + " MiB";
    } else if (!file.text) {
      return {{}, file_path_ + ": read: " + file.error};
    } else {
      HistoryParse parsed = parseHistory(*file.text);
      if (parsed.buckets) return {std::move(*parsed.buckets), ""};
      reason = std::move(parsed.error);
    }
    // Set aside rather than deleted or overwritten: it is evidence of whatever broke it.
    const auto seconds = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
    const std::string base = file_path_ + ".corrupt-" + std::to_string(seconds);
    std::string target = base;
    for (int n = 2; exists(target) && n < 100; ++n) target = base + "-" + std::to_string(n);
    const std::string prefix = file_path_ + " is corrupt (" + reason + "); ";
    if (::rename(file_path_.c_str(), target.c_str()) != 0) {
      return {{}, prefix + "could not set it aside: " + errorText(errno)};
    }
    return {{}, prefix + "set aside as " + target.substr(directory_.size() + 1)};
  } catch (const std::exception& error) {  // bad_alloc: start without history rather than die
    return {{}, file_path_ + ": read: " + error.what()};
  }
}

std::string HistoryStore::save(const std::vector<StoredBucket>& buckets,
                               std::chrono::system_clock::time_point now) const {
  const auto failed = [this](std::string_view step, int error) {
    ::unlink(temp_path_.c_str());
    return file_path_ + ": " + std::string(step) + ": " + errorText(error);
  };
  try {
    const std::string text = serializeHistory(buckets, now);
    // Only the last component: a missing parent means a wrong --storage.path, not one to build.
    if (::mkdir(directory_.c_str(), 0700) != 0 && errno != EEXIST) {
      return directory_ + ": create directory: " + errorText(errno);
    }
    // A temp file left by a kill -9 mid-save is replaced; O_EXCL never follows a symlink.
    ::unlink(temp_path_.c_str());
    Descriptor fd(
        ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) return failed("write", errno);
    if (!writeAll(fd.get(), text)) return failed("write", errno);
    if (::fsync(fd.get()) != 0) return failed("sync", errno);
    if (fd.close() != 0) return failed("write", errno);
    if (::rename(temp_path_.c_str(), file_path_.c_str()) != 0) return failed("rename", errno);
    // The rename is durable only once the directory entry is on disk too. Some file systems
    // cannot sync a directory (EINVAL); the rename has happened, so that is no failure.
    Descriptor dir(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() >= 0 && ::fsync(dir.get()) != 0 && errno != EINVAL) {
      return directory_ + ": sync directory: " + errorText(errno);
    }
    return "";
  } catch (const std::exception& error) {  // bad_alloc while serializing a huge history
    ::unlink(temp_path_.c_str());
    return file_path_ + ": save: " + error.what();
  }
}

}  // namespace pullguard
