// The address family a probe leaves by. Docker Hub counts anonymous pulls per IPv4 address
// and per IPv6 /64, so a dual-stack host has two buckets and each is probed on its own.
#pragma once

#include <optional>
#include <string_view>

namespace pullguard {

enum class AddressFamily { kAny, kIpv4, kIpv6 };

inline std::string_view familyName(AddressFamily family) {
  switch (family) {
    case AddressFamily::kIpv4:
      return "ipv4";
    case AddressFamily::kIpv6:
      return "ipv6";
    case AddressFamily::kAny:
      break;
  }
  return "any";
}

inline std::optional<AddressFamily> parseFamily(std::string_view text) {
  if (text == "any") return AddressFamily::kAny;
  if (text == "ipv4") return AddressFamily::kIpv4;
  if (text == "ipv6") return AddressFamily::kIpv6;
  return std::nullopt;
}

}  // namespace pullguard
