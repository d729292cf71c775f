#include <dockerflow/redact.hpp>

#include <algorithm>
#include <optional>
#include <utility>

namespace dockerflow {

namespace {

using span = std::pair<std::size_t, std::size_t>;  // [first, last) of a secret inside a URL

// The password ends at the last '@' of the whole URL, not of a well-formed authority: a password with
// an unencoded '/' or '?' must still be hidden, so this errs on the side of hiding too much.
// Also for mistyped schemes ("postgres:/u:p@h"): the userinfo starts after the scheme's ':' and slashes.
std::optional<span> userinfo_password(std::string_view url) {
  const auto scheme_end = url.find(':');
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const auto userinfo_start = std::min(url.find_first_not_of('/', scheme_end + 1), url.size());
  const auto at = url.rfind('@');
  if (at == std::string_view::npos || at < userinfo_start) return std::nullopt;
  const auto colon = url.substr(userinfo_start, at - userinfo_start).find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return span{userinfo_start + colon + 1, at};
}

// libpq also takes the password as a parameter: "…?password=secret&sslmode=…".
std::vector<span> password_parameters(std::string_view url) {
  constexpr std::string_view key = "password=";
  std::vector<span> found;
  for (auto pos = url.find(key); pos != std::string_view::npos; pos = url.find(key, pos + key.size())) {
    const auto value_start = pos + key.size();
    found.emplace_back(value_start, std::min(url.find('&', value_start), url.size()));
  }
  return found;
}

std::string mask(std::string text, std::vector<span> secrets) {
  // Right to left, so earlier spans keep their offsets.
  for (auto it = secrets.rbegin(); it != secrets.rend(); ++it) text.replace(it->first, it->second - it->first, "***");
  return text;
}

}  // namespace

std::string redact_url(std::string_view url) {
  std::string redacted(url);
  if (const auto password = userinfo_password(url)) redacted = mask(std::move(redacted), {*password});
  return mask(redacted, password_parameters(redacted));
}

std::vector<std::string> url_secrets(std::string_view url) {
  std::vector<std::string> found;
  if (const auto password = userinfo_password(url)) found.emplace_back(url.substr(password->first, password->second - password->first));
  for (const auto& [first, last] : password_parameters(url)) found.emplace_back(url.substr(first, last - first));
  return found;
}

std::string scrub(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  constexpr std::string_view mask = "***";
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + mask.size()))
    text.replace(pos, secret.size(), mask);
  return text;
}

std::string scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) text = scrub(std::move(text), secret);
  return text;
}

}  // namespace dockerflow
