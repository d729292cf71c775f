#include <dockerflow/checks/postgres_check.hpp>
#include <dockerflow/config.hpp>
#include <dockerflow/redact.hpp>

#include <libpq-fe.h>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>

namespace dockerflow {
namespace {

// libpq's connect_timeout is whole seconds, at least 2; the heartbeat's own deadline covers the rest.
std::string with_connect_timeout(std::string url, std::chrono::milliseconds timeout) {
  if (url.find("connect_timeout=") != std::string::npos) return url;
  const auto seconds = std::max<long long>(2, (timeout.count() + 999) / 1000);
  url += url.find('?') == std::string::npos ? '?' : '&';
  return url + "connect_timeout=" + std::to_string(seconds);
}

// Validates with libpq's own parser so a bad DATABASE_URL fails at start-up, not at the first probe.
std::string password_of(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (!options) {
    const std::string why = error ? error : "cannot parse";
    PQfreemem(error);
    throw config_error("invalid DATABASE_URL=\"" + redact_url(url) + "\": " + scrub(why, url));
  }
  std::string password;
  for (auto* o = options; o->keyword; ++o)
    if (std::string_view(o->keyword) == "password" && o->val) password = o->val;
  PQconninfoFree(options);
  return password;
}

std::string first_line(std::string text) {
  text = text.substr(0, text.find('\n'));
  return text;
}

}  // namespace

struct postgres_check::connection {
  explicit connection(const std::string& conninfo) : link(conninfo) {}
  pqxx::connection link;
};

postgres_check::postgres_check(std::string url, std::chrono::milliseconds timeout)
    : conninfo_(with_connect_timeout(url, timeout)), password_(password_of(conninfo_)) {}

postgres_check::~postgres_check() = default;

std::vector<message> postgres_check::run(check_clock::time_point) {
  try {
    if (!connection_) connection_ = std::make_unique<connection>(conninfo_);
    pqxx::nontransaction work(connection_->link);
    work.exec("SELECT 1");
    return {};
  } catch (const pqxx::broken_connection& e) {
    connection_.reset();
    return {error_message("postgres.E001", "cannot connect: " + scrub(first_line(e.what()), password_))};
  } catch (const std::exception& e) {
    connection_.reset();
    return {error_message("postgres.E002", "query failed: " + scrub(first_line(e.what()), password_))};
  }
}

}  // namespace dockerflow
