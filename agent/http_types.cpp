#include "http_types.hpp"

namespace pullguard {
namespace {
char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> findHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& header : headers) {
    if (equalsIgnoreCase(header.name, name)) return std::string_view(header.value);
  }
  return std::nullopt;
}

}  // namespace pullguard
