#pragma once

#include <dockerflow/level.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

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
