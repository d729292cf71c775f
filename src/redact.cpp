#include <dockerflow/redact.hpp>

#include <algorithm>

namespace dockerflow {

namespace {

// The password ends at the last '@' of the whole URL, not of a well-formed authority: a password with
// an unencoded '/' or '?' must still be hidden, so this errs on the side of hiding too much.
std::string redact_userinfo(std::string_view url) {
  // Also for mistyped schemes ("postgres:/u:p@h"): the userinfo starts after the scheme's ':' and slashes.
  const auto scheme_end = url.find(':');
  if (scheme_end == std::string_view::npos) return std::string(url);
  const auto userinfo_start = std::min(url.find_first_not_of('/', scheme_end + 1), url.size());
  const auto at = url.rfind('@');
  if (at == std::string_view::npos || at < userinfo_start) return std::string(url);
  const auto colon = url.substr(userinfo_start, at - userinfo_start).find(':');
  if (colon == std::string_view::npos) return std::string(url);
  std::string result(url.substr(0, userinfo_start + colon + 1));
  result += "***";
  result += url.substr(at);
  return result;
}

// libpq also takes the password as a parameter: "…?password=secret&sslmode=…".
std::string redact_password_parameters(std::string url) {
  constexpr std::string_view key = "password=";
  for (auto pos = url.find(key); pos != std::string::npos; pos = url.find(key, pos + key.size() + 3)) {
    const auto value_start = pos + key.size();
    const auto value_end = std::min(url.find('&', value_start), url.size());
    url.replace(value_start, value_end - value_start, "***");
  }
  return url;
}

}  // namespace

std::string redact_url(std::string_view url) { return redact_password_parameters(redact_userinfo(url)); }

std::string scrub(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  constexpr std::string_view mask = "***";
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + mask.size()))
    text.replace(pos, secret.size(), mask);
  return text;
}

}  // namespace dockerflow
