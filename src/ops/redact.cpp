#include <dockerflow/ops/redact.hpp>

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

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// libpq percent-decodes parameter names too: "?pass%77ord=secret" sets the password.
std::string decoded_key(std::string_view key) {
  std::string decoded;
  for (std::size_t i = 0; i < key.size(); ++i) {
    if (key[i] == '%' && i + 2 < key.size() && hex_value(key[i + 1]) >= 0 &&
        hex_value(key[i + 2]) >= 0) {
      decoded += static_cast<char>(hex_value(key[i + 1]) * 16 + hex_value(key[i + 2]));
      i += 2;
    } else {
      decoded += key[i];
    }
  }
  return decoded;
}

// libpq also takes the password as a parameter: "…?password=secret&sslmode=…". Every '?'- or
// '&'-separated "key=value" whose decoded key is "password" counts, wherever it stands: hiding too
// much is better than too little.
std::vector<span> password_parameters(std::string_view url) {
  std::vector<span> found;
  for (auto start = url.find_first_of("?&"); start != std::string_view::npos; start = url.find_first_of("?&", start + 1)) {
    const auto key_start = start + 1;
    const auto end = std::min(url.find_first_of("?&", key_start), url.size());
    const auto eq = url.substr(key_start, end - key_start).find('=');
    if (eq == std::string_view::npos) continue;
    if (decoded_key(url.substr(key_start, eq)) == "password") found.emplace_back(key_start + eq + 1, end);
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
