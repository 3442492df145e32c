// Plain HTTP value types shared by the curl wrapper, the probe and the parsers.
// No libcurl here, so parsers that read headers stay testable alone.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pullguard {

struct HttpHeader {
  std::string name;  // as received; compare with findHeader(), which ignores case
  std::string value;
};
using HttpHeaders = std::vector<HttpHeader>;

// The first header whose name matches `name` without regard to ASCII case.
std::optional<std::string_view> findHeader(const HttpHeaders& headers, std::string_view name);

bool equalsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace pullguard
