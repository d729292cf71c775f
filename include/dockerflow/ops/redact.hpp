#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dockerflow {

// Replaces the password of a `scheme://user:password@host…` URL and every `password=` parameter with
// "***" so URLs can be logged. Strings that do not look like such a URL are returned unchanged.
std::string redact_url(std::string_view url);

// The secrets redact_url hides, as written in `url`: to scrub them from texts that quote parts of it.
std::vector<std::string> url_secrets(std::string_view url);

// Removes every occurrence of `secret` from `text` (for error messages of client libraries that may
// echo a connection string back).
std::string scrub(std::string text, std::string_view secret);
std::string scrub(std::string text, const std::vector<std::string>& secrets);

}  // namespace dockerflow
