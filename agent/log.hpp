// Structured logging to stderr: one line per event, logfmt or JSON. Callers pass key/value
// fields; no field ever carries a password, token or Authorization header.
#pragma once

#include <atomic>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace pullguard {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kLogfmt, kJson };

std::optional<LogLevel> parseLogLevel(std::string_view text);
std::optional<LogFormat> parseLogFormat(std::string_view text);

using LogField = std::pair<std::string_view, std::string>;

// Renders one line without the trailing newline; public so tests check the escaping.
std::string formatLogLine(LogFormat format, std::string_view timestamp, LogLevel level,
                          std::string_view message, std::initializer_list<LogField> fields);

class Logger {
 public:
  void configure(LogLevel level, LogFormat format);
  bool enabled(LogLevel level) const { return level >= level_.load(std::memory_order_relaxed); }
  void log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

  void debug(std::string_view m, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kDebug, m, f);
  }
  void info(std::string_view m, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kInfo, m, f);
  }
  void warn(std::string_view m, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kWarn, m, f);
  }
  void error(std::string_view m, std::initializer_list<LogField> f = {}) {
    log(LogLevel::kError, m, f);
  }

 private:
  std::mutex mutex_;
  std::atomic<LogLevel> level_{LogLevel::kInfo};
  LogFormat format_ = LogFormat::kLogfmt;
};

// The process-wide logger; configured once from the flags in main.
Logger& logger();

}  // namespace pullguard
