#pragma once

#include <chrono>
#include <string>

namespace hello {

// DATABASE_URL (a libpq URI or key=value string) as a key=value string that also bounds the connect:
// connect_timeout is added unless the URL sets its own (libpq counts whole seconds, at least 2).
// Without it, libpq waits on an unanswered connect for as long as TCP does. Throws
// dockerflow::config_error naming DATABASE_URL, without its text, when libpq cannot parse it.
std::string conninfo_with_timeout(const std::string& url, std::chrono::seconds connect_timeout);

}  // namespace hello
