#include <dockerflow/checks/postgres_check.hpp>
#include <dockerflow/ops/config.hpp>
#include <dockerflow/ops/redact.hpp>

#include <libpq-fe.h>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>

#include <cctype>
#include <utility>
#include <vector>

namespace dockerflow {
namespace {

// Where libpq's URI parser finds the host: the userinfo ends at the first '@' before any '/', so a
// password may hold an unencoded '?' (or ':'), never an unencoded '/' or '@'.
std::size_t host_start(std::string_view url) {
  const auto scheme = url.find("://");
  const auto authority = scheme == std::string_view::npos ? 0 : scheme + 3;
  const auto end = url.find_first_of("@/", authority);
  return end != std::string_view::npos && url[end] == '@' ? end + 1 : authority;
}

// The '?' that starts the parameters, after the host (npos when there are none).
std::size_t query_start(std::string_view url) { return url.find('?', host_start(url)); }

// libpq's connection errors quote hosts, users and databases but never the password; scrubbing every
// occurrence of its text would garble them (user = password = database is common in development).
// A password can only appear where the connection string is echoed: as userinfo or as a parameter.
std::string scrub_echoes(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (const auto& [echo, masked] : {std::pair{":" + secret + "@", std::string(":***@")},
                                       std::pair{"password=" + secret, std::string("password=***")}})
      for (auto pos = text.find(echo); pos != std::string::npos; pos = text.find(echo, pos + masked.size()))
        text.replace(pos, echo.size(), masked);
  }
  return text;
}

// Adds what bounds a probe unless the URL already says otherwise: libpq's connect_timeout is whole
// seconds, at least 2; tcp_user_timeout ends a query whose packets go unacknowledged (a blackholed
// network) instead of waiting for TCP's own ~15 minutes. The heartbeat's deadline covers the rest.
std::string percent_encoded(std::string_view text) {
  std::string encoded;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || std::string_view("/-._~").find(c) != std::string_view::npos) {
      encoded += c;
    } else {
      constexpr char hex[] = "0123456789ABCDEF";
      encoded += '%';
      encoded += hex[static_cast<unsigned char>(c) >> 4];
      encoded += hex[static_cast<unsigned char>(c) & 0xf];
    }
  }
  return encoded;
}

std::string with_defaults(std::string url, std::chrono::milliseconds timeout, const std::optional<std::string>& ca_file) {
  const auto query = query_start(url);
  const auto in_query = [&](const std::string& text) {
    return query != std::string::npos && url.find(text, query) != std::string::npos;
  };
  const auto has = [&](std::string_view key) { return in_query(std::string(key) + "="); };
  const bool verifies = in_query("sslmode=verify-ca") || in_query("sslmode=verify-full");
  const auto add = [&](std::string_view key, const std::string& value) {
    if (has(key)) return;
    url += url.find('?', host_start(url)) == std::string::npos ? '?' : '&';
    url += std::string(key) + "=" + value;
  };
  add("connect_timeout", std::to_string(std::max<long long>(2, (timeout.count() + 999) / 1000)));
  add("tcp_user_timeout", std::to_string(std::max<long long>(1000, timeout.count())));
  if (verifies && ca_file) add("sslrootcert", percent_encoded(*ca_file));
  return url;
}

std::string first_line(std::string text) {
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && (text.back() == ' ' || text.back() == '\r')) text.pop_back();
  return text;
}

// Validates the URL as the user wrote it with libpq's own parser, so a bad DATABASE_URL fails at
// start-up, not at the first probe. Returns the password as libpq decoded it and as it is written.
std::vector<std::string> secrets_of(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (!options) {
    const std::string why = first_line(error ? error : "cannot parse");
    PQfreemem(error);
    throw config_error("invalid DATABASE_URL=\"" + redact_url(url) + "\": " + scrub(why, url_secrets(url)));
  }
  std::string password;
  for (auto* o = options; o->keyword; ++o)
    if (std::string_view(o->keyword) == "password" && o->val) password = o->val;
  PQconninfoFree(options);
  auto secrets = url_secrets(url);
  secrets.push_back(password);
  return secrets;
}

}  // namespace

struct postgres_check::connection {
  explicit connection(const std::string& conninfo) : link(conninfo) {}
  pqxx::connection link;
};

postgres_check::postgres_check(std::string url, std::chrono::milliseconds timeout, std::optional<std::string> ca_file,
                               std::string name)
    : name_(std::move(name)), secrets_(secrets_of(url)), conninfo_(with_defaults(url, timeout, ca_file)) {}

postgres_check::~postgres_check() = default;

std::vector<message> postgres_check::run(check_clock::time_point) {
  try {
    if (!connection_) connection_ = std::make_unique<connection>(conninfo_);
    pqxx::nontransaction work(connection_->link);
    work.exec("SELECT 1");
    return {};
  } catch (const pqxx::broken_connection& e) {
    connection_.reset();
    const auto why = scrub_echoes(first_line(e.what()), secrets_);
    // "FATAL:" is the server speaking (bad password, unknown database), "fe_sendauth:" libpq unable to
    // answer the server's authentication request (no password given): reachable, but refusing.
    if (why.find("FATAL:") != std::string::npos || why.find("fe_sendauth:") != std::string::npos)
      return {error_message(name_ + ".E002", "connection refused by the server: " + why)};
    return {error_message(name_ + ".E001", "cannot connect: " + why)};
  } catch (const std::exception& e) {
    connection_.reset();
    return {error_message(name_ + ".E002", "query failed: " + scrub_echoes(first_line(e.what()), secrets_))};
  }
}

}  // namespace dockerflow
