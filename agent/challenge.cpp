#include "challenge.hpp"

#include <utility>
#include <vector>

#include "http_types.hpp"

namespace pullguard {
namespace {

struct Challenge {
  std::string scheme;
  std::vector<std::pair<std::string, std::string>> params;  // names lower-cased
};

bool isAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 7230 tchar.
bool isTokenChar(char c) {
  if (isAlnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool isToken68Char(char c) {
  return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

// Unquoted values are read more loosely than RFC 7235's token: some registries send a realm
// URL without quotes, and its ':' and '/' are not token characters.
bool isBareValueChar(char c) { return c > 0x20 && c < 0x7f && c != ',' && c != '"'; }

bool isControl(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return (byte < 0x20 && c != '\t') || byte == 0x7f;
}

std::string lowerAscii(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

// Recursive-descent reader for `1#challenge`. It needs lookahead to tell an auth-param
// ("name=...") from the scheme of the next challenge in the same header value.
class ChallengeReader {
 public:
  explicit ChallengeReader(std::string_view text) : text_(text) {}

  // Appends every challenge to `out`; returns an error message, empty on success.
  std::string read(std::vector<Challenge>& out) {
    while (true) {
      skipSeparators();
      if (atEnd()) return {};
      const auto scheme = take(isTokenChar);
      if (scheme.empty()) return unexpected();
      out.push_back({std::string(scheme), {}});
      if (atEnd()) return {};
      if (text_[pos_] != ' ' && text_[pos_] != '\t' && text_[pos_] != ',') return unexpected();
      skipSpaces();
      if (skipToken68()) continue;
      if (auto error = readParams(out.back()); !error.empty()) return error;
    }
  }

 private:
  bool atEnd() const { return pos_ >= text_.size(); }
  bool peekIs(char c) const { return !atEnd() && text_[pos_] == c; }

  void skipSpaces() {
    while (peekIs(' ') || peekIs('\t')) ++pos_;
  }
  void skipSeparators() {
    while (peekIs(' ') || peekIs('\t') || peekIs(',')) ++pos_;
  }

  std::string_view take(bool (*accept)(char)) {
    const std::size_t start = pos_;
    while (!atEnd() && accept(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  std::string unexpected() const {
    return "malformed WWW-Authenticate: unexpected character at offset " + std::to_string(pos_);
  }

  // token68 credentials (e.g. "Negotiate abc==") stand alone, up to a ',' or the end.
  bool skipToken68() {
    std::size_t end = pos_;
    while (end < text_.size() && isToken68Char(text_[end])) ++end;
    if (end == pos_) return false;
    while (end < text_.size() && text_[end] == '=') ++end;
    while (end < text_.size() && (text_[end] == ' ' || text_[end] == '\t')) ++end;
    if (end < text_.size() && text_[end] != ',') return false;
    pos_ = end;
    return true;
  }

  // Reads name=value pairs until the end or a token without '=', which starts a new challenge.
  std::string readParams(Challenge& challenge) {
    while (true) {
      skipSeparators();
      if (atEnd()) return {};
      const std::size_t start = pos_;
      const auto name = take(isTokenChar);
      if (name.empty()) return unexpected();
      skipSpaces();
      if (!peekIs('=')) {
        pos_ = start;
        return {};
      }
      ++pos_;
      skipSpaces();
      std::string value;
      if (peekIs('"')) {
        if (auto error = readQuoted(value); !error.empty()) return error;
      } else {
        value = take(isBareValueChar);
        if (value.empty()) return unexpected();
      }
      challenge.params.emplace_back(lowerAscii(name), std::move(value));
      skipSpaces();
      if (!atEnd() && !peekIs(',')) return unexpected();
    }
  }

  std::string readQuoted(std::string& value) {
    ++pos_;  // opening quote
    while (!atEnd()) {
      char c = text_[pos_++];
      if (c == '"') return {};
      if (c == '\\') {
        if (atEnd()) break;
        c = text_[pos_++];
      }
      // A control character could split the token request URL or a log line.
      if (isControl(c)) return "malformed WWW-Authenticate: control character in quoted-string";
      value += c;
    }
    return "malformed WWW-Authenticate: unterminated quoted-string";
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

std::string paramValue(const Challenge& challenge, std::string_view name) {
  for (const auto& [key, value] : challenge.params) {
    if (key == name) return value;  // RFC 7235: a name occurs once; the first one counts
  }
  return {};
}

// Names the schemes that were offered; they are tokens, so safe to log, but bounded in length.
std::string noBearerError(const std::vector<Challenge>& challenges) {
  std::string error = "no Bearer challenge in WWW-Authenticate";
  if (challenges.empty()) return error + " (header is empty)";
  std::string schemes;
  for (const auto& challenge : challenges) {
    if (schemes.size() > 40) return error + " (schemes: " + schemes + ", ...)";
    if (!schemes.empty()) schemes += ", ";
    schemes += challenge.scheme.substr(0, 40);
  }
  return error + " (schemes: " + schemes + ")";
}

void appendPercentEncoded(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : value) {
    // RFC 3986 unreserved, plus ':' and '/', which are legal in a query and keep scopes readable.
    if (isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':' || c == '/') {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    }
  }
}

}  // namespace

ChallengeParseResult parseBearerChallenge(std::string_view header_value) {
  std::vector<Challenge> challenges;
  ChallengeReader reader(header_value);
  if (auto error = reader.read(challenges); !error.empty()) return {std::nullopt, error};
  bool saw_bearer = false;
  for (const auto& challenge : challenges) {
    if (!equalsIgnoreCase(challenge.scheme, "Bearer")) continue;
    saw_bearer = true;
    BearerChallenge bearer{paramValue(challenge, "realm"), paramValue(challenge, "service"),
                           paramValue(challenge, "scope")};
    if (!bearer.realm.empty()) return {std::move(bearer), {}};
  }
  if (saw_bearer) return {std::nullopt, "Bearer challenge in WWW-Authenticate has no realm"};
  return {std::nullopt, noBearerError(challenges)};
}

std::string buildTokenUrl(const BearerChallenge& challenge, std::string_view fallback_scope) {
  // A fragment is never sent to the server, and parameters appended after it would be lost.
  const std::string_view realm =
      std::string_view(challenge.realm).substr(0, challenge.realm.find('#'));
  std::string url(realm);
  const bool has_query = realm.find('?') != std::string_view::npos;
  const bool query_open = !url.empty() && (url.back() == '?' || url.back() == '&');
  std::string_view separator = has_query ? (query_open ? "" : "&") : "?";
  const auto append = [&](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    url += separator;
    url += name;
    url += '=';
    appendPercentEncoded(url, value);
    separator = "&";
  };
  append("service", challenge.service);
  // The token spec: one scope parameter per space-separated entry of the challenge's scope.
  std::string_view scopes = challenge.scope.empty() ? fallback_scope : challenge.scope;
  while (!scopes.empty()) {
    const auto space = scopes.find(' ');
    append("scope", scopes.substr(0, space));
    scopes.remove_prefix(space == std::string_view::npos ? scopes.size() : space + 1);
  }
  return url;
}

}  // namespace pullguard
