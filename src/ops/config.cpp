#include <dockerflow/ops/config.hpp>
#include <dockerflow/ops/redact.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

extern char** environ;

namespace dockerflow {
namespace {

// Values are shown escaped so the message stays one line whatever the value holds (e.g. a CR from an .env file).
std::string printable(std::string_view value) {
  std::string shown;
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == '"' || c == '\\') {
      constexpr char hex[] = "0123456789abcdef";
      shown += "\\x";
      shown += hex[byte >> 4];
      shown += hex[byte & 0xf];
    } else {
      shown += c;
    }
  }
  return shown;
}

[[noreturn]] void invalid(std::string_view variable, std::string_view shown_value, std::string_view expected) {
  throw config_error("invalid " + std::string(variable) + "=\"" + printable(shown_value) + "\": " + std::string(expected));
}

const std::string* lookup(const environment& env, const std::string& name) {
  const auto it = env.find(name);
  return it == env.end() ? nullptr : &it->second;
}

long parse_integer(const std::string& name, const std::string& value, long min, long max, std::string_view expected) {
  long result = 0;
  const auto* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, result);
  if (value.empty() || ec != std::errc{} || ptr != end || result < min || result > max) invalid(name, value, expected);
  return result;
}

bool is_ip_address(const std::string& text) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 || inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

std::string percent_decode(std::string_view text) {
  std::string result;
  for (std::size_t i = 0; i < text.size(); ++i) {
    int byte = 0;
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      std::from_chars(text.data() + i + 1, text.data() + i + 3, byte, 16);
      result += static_cast<char>(byte);
      i += 2;
    } else {
      result += text[i];
    }
  }
  return result;
}

void parse_database_url(const std::string& url, config& result) {
  if (!(url.starts_with("postgres://") || url.starts_with("postgresql://")))
    invalid("DATABASE_URL", redact_url(url), "expected a postgres:// or postgresql:// URI");
  result.database_url = url;
}

// "a, b,,c" → {"a", "b", "c"}
std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

std::uint16_t parse_port(const std::string& name, const std::string& value) {
  return static_cast<std::uint16_t>(parse_integer(name, value, 1, 65535, "expected an integer from 1 to 65535"));
}

bool parse_switch(const std::string& name, const std::string& value) {
  if (value == "1" || value == "true") return true;
  if (value == "0" || value == "false" || value.empty()) return false;
  invalid(name, value, "expected 1 or 0");
}

// The statsd host comes from STATSD_HOST; the port from STATSD_PORT, else the spec's spelling STATD_PORT.
std::optional<statsd_endpoint> parse_statsd(const environment& env) {
  const auto* host = lookup(env, "STATSD_HOST");
  if (!host || host->empty()) return std::nullopt;
  statsd_endpoint endpoint;
  endpoint.host = *host;
  if (const auto* v = lookup(env, "STATSD_PORT"); v && !v->empty())
    endpoint.port = parse_port("STATSD_PORT", *v);
  else if (const auto* spec = lookup(env, "STATD_PORT"); spec && !spec->empty())
    endpoint.port = parse_port("STATD_PORT", *spec);
  if (const auto* v = lookup(env, "STATSD_PREFIX")) {
    const bool valid = !v->empty() && std::all_of(v->begin(), v->end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
    if (!valid) invalid("STATSD_PREFIX", *v, "expected letters, digits, '.', '_' or '-'");
    endpoint.prefix = *v;
  }
  return endpoint;
}

void parse_monitoring(const environment& env, config& result) {
  if (const auto* v = lookup(env, "DOCKERFLOW_HEARTBEAT_CACHE_MS"))
    result.heartbeat_cache = std::chrono::milliseconds(
        parse_integer("DOCKERFLOW_HEARTBEAT_CACHE_MS", *v, 0, 3'600'000, "expected milliseconds from 0 to 3600000"));
  if (const auto* v = lookup(env, "DOCKERFLOW_CHECK_FAILURES_BEFORE_ERROR"))
    result.failures_before_error = static_cast<unsigned>(
        parse_integer("DOCKERFLOW_CHECK_FAILURES_BEFORE_ERROR", *v, 1, 1000, "expected a count from 1 to 1000"));
  if (const auto* v = lookup(env, "DOCKERFLOW_CHECK_WARN_MS"); v && !v->empty())
    result.check_warn = std::chrono::milliseconds(
        parse_integer("DOCKERFLOW_CHECK_WARN_MS", *v, 1, 600'000, "expected milliseconds from 1 to 600000"));
  // Never echoed, not even in an error: the token is a secret.
  if (const auto* v = lookup(env, "DOCKERFLOW_HEARTBEAT_DETAILS_TOKEN"); v && !v->empty()) result.details_token = *v;
  if (const auto* v = lookup(env, "DOCKERFLOW_LOG_PROBES")) {
    if (*v == "all") result.log_probes = probe_logging::all;
    else if (*v == "failures") result.log_probes = probe_logging::failures;
    else if (*v == "none") result.log_probes = probe_logging::none;
    else invalid("DOCKERFLOW_LOG_PROBES", *v, "expected all, failures or none");
  }
  if (const auto* v = lookup(env, "DOCKERFLOW_ERROR_ENDPOINT"))
    result.error_endpoint = parse_switch("DOCKERFLOW_ERROR_ENDPOINT", *v);
  result.statsd = parse_statsd(env);
  if (const auto* v = lookup(env, "METRICS_PORT"); v && !v->empty()) result.metrics_port = parse_port("METRICS_PORT", *v);
}

}  // namespace

redis_endpoint parse_redis_url(const std::string& url) {
  const auto fail = [&](std::string_view why) { invalid("REDIS_URL", redact_url(url), why); };
  constexpr std::string_view scheme = "redis://";
  if (!url.starts_with(scheme)) fail("expected redis://[:password@]host[:port][/db]");
  std::string_view rest = std::string_view(url).substr(scheme.size());

  redis_endpoint endpoint;
  // Split at the last '@' first (as redact_url does), so a password holding '/' cannot leak into the host.
  const auto at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    const auto colon = userinfo.find(':');
    // redis://:password@, redis://user:password@ (Redis 6 ACL) and redis://user@ (no password), as redis-py reads them
    endpoint.username = percent_decode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) endpoint.password = percent_decode(userinfo.substr(colon + 1));
    rest = rest.substr(at + 1);
  }
  const auto path_start = rest.find('/');
  const auto host_port = rest.substr(0, path_start);

  std::string_view port_text;
  if (host_port.starts_with('[')) {  // [::1]:6379
    const auto close = host_port.find(']');
    if (close == std::string_view::npos) fail("unterminated IPv6 address");
    endpoint.host = std::string(host_port.substr(1, close - 1));
    const auto after = host_port.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) fail("expected ':' after the IPv6 address");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const auto colon = host_port.rfind(':');
    endpoint.host = std::string(host_port.substr(0, colon));
    if (colon != std::string_view::npos) port_text = host_port.substr(colon + 1);
  }
  if (endpoint.host.empty()) fail("missing host");
  if (!port_text.empty()) {
    int port = 0;
    const auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port < 1 || port > 65535)
      fail("port must be an integer from 1 to 65535");
    endpoint.port = static_cast<std::uint16_t>(port);
  }

  if (path_start != std::string_view::npos) {
    auto db = rest.substr(path_start + 1);
    db = db.substr(0, db.find('?'));
    if (!db.empty()) {
      const auto [ptr, ec] = std::from_chars(db.data(), db.data() + db.size(), endpoint.database);
      if (ec != std::errc{} || ptr != db.data() + db.size() || endpoint.database < 0)
        fail("database must be a non-negative integer");
    }
  }
  return endpoint;
}

config parse_config(const environment& env) {
  config result;
  if (const auto* v = lookup(env, "HOST")) {
    if (!is_ip_address(*v)) invalid("HOST", *v, "expected an IPv4 or IPv6 address such as 0.0.0.0 or ::");
    result.host = *v;
  }
  if (const auto* v = lookup(env, "PORT"))
    result.port = static_cast<std::uint16_t>(parse_integer("PORT", *v, 1, 65535, "expected an integer from 1 to 65535"));
  if (const auto* v = lookup(env, "DATABASE_URL"); v && !v->empty()) parse_database_url(*v, result);
  if (const auto* v = lookup(env, "REDIS_URL"); v && !v->empty()) {
    result.redis = parse_redis_url(*v);
    result.redis_url_redacted = redact_url(*v);
  }
  if (const auto* v = lookup(env, "DOCKERFLOW_VERSION_FILE")) {
    if (v->empty()) invalid("DOCKERFLOW_VERSION_FILE", *v, "expected a file path");
    result.version_file = *v;
  }
  if (const auto* v = lookup(env, "DOCKERFLOW_CHECK_TIMEOUT_MS"))
    result.check_timeout = std::chrono::milliseconds(
        parse_integer("DOCKERFLOW_CHECK_TIMEOUT_MS", *v, 1, 600'000, "expected milliseconds from 1 to 600000"));
  if (const auto* v = lookup(env, "DOCKERFLOW_DRAIN_SECONDS"))
    result.drain = std::chrono::seconds(
        parse_integer("DOCKERFLOW_DRAIN_SECONDS", *v, 0, 60, "expected seconds from 0 to 60"));
  if (const auto* v = lookup(env, "DOCKERFLOW_THREADS"))
    result.threads = static_cast<unsigned>(
        parse_integer("DOCKERFLOW_THREADS", *v, 1, 256, "expected a number of threads from 1 to 256"));
  parse_monitoring(env, result);
  if (const auto* v = lookup(env, "DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE"))
    result.heartbeat_failed_status = static_cast<unsigned>(parse_integer(
        "DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE", *v, 500, 599, "expected a 5xx status code from 500 to 599"));
  if (const auto* v = lookup(env, "LOG_LEVEL")) {
    const auto parsed = parse_level(*v);
    if (!parsed || *parsed == level::ok) invalid("LOG_LEVEL", *v, "expected debug, info, warning, error or critical");
    result.log_level = *parsed;
  }
  if (const auto* v = lookup(env, "SSL_CERT_FILE"); v && !v->empty()) result.ca_file = *v;
  if (const auto* v = lookup(env, "DOCKERFLOW_SILENCED_CHECKS")) result.silenced_checks = split_list(*v);
  if (result.metrics_port && *result.metrics_port == result.port)
    invalid("METRICS_PORT", std::to_string(*result.metrics_port), "must differ from PORT: /metrics is never served publicly");
  if (const auto* v = lookup(env, "LOGGER_NAME")) {
    if (v->empty()) invalid("LOGGER_NAME", *v, "expected a non-empty name");
    result.logger_name = *v;
  }
  return result;
}

environment process_environment() {
  environment env;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    const auto eq = text.find('=');
    if (eq != std::string_view::npos) env.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return env;
}

}  // namespace dockerflow
