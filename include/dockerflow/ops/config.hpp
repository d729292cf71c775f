#pragma once

#include <dockerflow/health/level.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace dockerflow {

using environment = std::map<std::string, std::string>;

// Thrown for any invalid setting. what() is one line naming the variable and its (redacted) value.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct redis_endpoint {
  std::string host;
  std::uint16_t port = 6379;
  std::string username;  // empty or "default": AUTH with the password alone
  std::string password;  // empty: no AUTH
  int database = 0;
};

struct statsd_endpoint {
  std::string host;               // STATSD_HOST: a name or an address, resolved off the event loop
  std::uint16_t port = 8125;      // STATSD_PORT, else the Dockerflow spec's STATD_PORT
  std::string prefix = "dockerflow";
};

enum class probe_logging { all, failures, none };

struct config {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8000;
  std::optional<std::string> database_url;
  std::optional<redis_endpoint> redis;
  std::string redis_url_redacted;
  std::string version_file = "version.json";
  std::chrono::milliseconds check_timeout{2000};
  std::chrono::seconds drain{5};            // after SIGTERM: keep serving while the balancer notices
  std::optional<unsigned> threads;          // event-loop threads; unset: the CPUs this process may use
  std::chrono::milliseconds heartbeat_cache{1000};   // reuse a check's result this long; 0: share in-flight only
  unsigned failures_before_error = 1;                // consecutive failed probes before `error`
  std::optional<std::chrono::milliseconds> check_warn;  // slower checks report a warning
  std::optional<std::string> details_token;          // required for the heartbeat's details
  probe_logging log_probes = probe_logging::all;
  bool error_endpoint = false;
  std::optional<statsd_endpoint> statsd;
  std::optional<std::uint16_t> metrics_port;         // Prometheus /metrics, never on the public port
  std::vector<std::string> silenced_checks;          // message ids the heartbeat ignores
  std::optional<std::string> ca_file;                // SSL_CERT_FILE: the CA bundle TLS clients trust
  unsigned heartbeat_failed_status = 500;
  level log_level = level::info;
  std::string logger_name = "dockerflow-app";
};

// The single place where environment variables are read and validated.
config parse_config(const environment& env);

// Snapshot of the process environment, for main.
environment process_environment();

redis_endpoint parse_redis_url(const std::string& url);

}  // namespace dockerflow
