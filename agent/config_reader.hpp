// The pieces every config section parser shares: the error that carries "<path>: <problem>"
// and a reader for one JSON object that rejects keys nobody asked for. Internal to parsing.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

namespace pullguard {

// Thrown only while parsing and turned into ConfigResult::error by parseConfig().
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail(const std::string& path, const std::string& problem) {
  throw ConfigError(path + ": " + problem);
}

// Reads one JSON object, remembering its path for errors and rejecting keys nobody asked for.
class ObjectReader {
 public:
  ObjectReader(const nlohmann::json& object, std::string path)
      : object_(object), path_(std::move(path)) {
    if (!object_.is_object()) fail(displayPath(), "must be an object");
  }

  std::string field(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  const nlohmann::json* find(std::string_view key) {
    known_.insert(std::string(key));
    auto it = object_.find(std::string(key));
    return it == object_.end() ? nullptr : &*it;
  }

  void readString(std::string_view key, std::string& out) {
    if (const nlohmann::json* value = find(key)) {
      if (!value->is_string()) fail(field(key), "must be a string");
      out = value->get<std::string>();
    }
  }

  void readInteger(std::string_view key, std::int64_t& out) {
    if (const nlohmann::json* value = find(key)) {
      if (!value->is_number_integer()) fail(field(key), "must be a whole number");
      out = value->get<std::int64_t>();
    }
  }

  void readNumber(std::string_view key, double& out) {
    if (const nlohmann::json* value = find(key)) {
      if (!value->is_number()) fail(field(key), "must be a number");
      out = value->get<double>();
    }
  }

  void readBool(std::string_view key, bool& out) {
    if (const nlohmann::json* value = find(key)) {
      if (!value->is_boolean()) fail(field(key), "must be true or false");
      out = value->get<bool>();
    }
  }

  // Call after every read: any key not asked for is a typo or a setting of another version.
  void rejectUnknownKeys() const {
    for (const auto& [key, value] : object_.items()) {
      if (!known_.contains(key)) fail(field(key), "unknown key");
    }
  }

 private:
  std::string displayPath() const { return path_.empty() ? "config" : path_; }

  const nlohmann::json& object_;
  std::string path_;
  std::set<std::string> known_;
};

}  // namespace pullguard
