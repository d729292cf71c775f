#pragma once

#include <string>
#include <string_view>

namespace dockerflow {

// Replaces the password of a `scheme://user:password@host…` URL with "***" so URLs can be logged.
// Strings that do not look like such a URL are returned unchanged.
std::string redact_url(std::string_view url);

// Removes every occurrence of `secret` from `text` (for error messages of client libraries that may
// echo a connection string back).
std::string scrub(std::string text, std::string_view secret);

}  // namespace dockerflow
