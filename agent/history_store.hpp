// The budget history on disk: <directory>/history.json, loaded at start and replaced atomically
// on every save, so a kill -9 at any moment leaves either the previous file or the new one.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "history_file.hpp"

namespace pullguard {

class HistoryStore {
 public:
  explicit HistoryStore(std::string directory);  // file: <directory>/history.json

  struct Loaded {
    std::vector<StoredBucket> buckets;
    // One line for the log when the file could not be used; a missing file or directory is
    // not worth one. E.g. "/var/lib/pullguard/history.json is corrupt (<reason>); set aside as
    // history.json.corrupt-1764334800".
    std::string warning;
  };
  // A file that does not parse is renamed to history.json.corrupt-<unix seconds of `now`>, so
  // the next save does not destroy what an operator may want to look at. Not pruned: the caller
  // calls pruneHistory with its own clock and window. Never throws.
  Loaded load(std::chrono::system_clock::time_point now) const;
  Loaded load() const { return load(std::chrono::system_clock::now()); }

  // Writes <file>.tmp in the same directory (mode 0600), fsyncs it, renames it over the file and
  // fsyncs the directory. Creates the directory (0700) if it is missing, but not its parents.
  // Returns "" on success, else one line ("<file>: write: No space left on device"); leaves no
  // temp file behind on failure. Never throws.
  std::string save(const std::vector<StoredBucket>& buckets,
                   std::chrono::system_clock::time_point now) const;

  const std::string& filePath() const { return file_path_; }
  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
  std::string file_path_;
  std::string temp_path_;
};

}  // namespace pullguard
