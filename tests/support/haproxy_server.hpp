#pragma once

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dockerflow::test {

struct haproxy_backend_server {
  std::string name;   // as haproxy reports it: "a", "b"
  std::uint16_t port; // on 127.0.0.1
};

struct haproxy_options {
  std::vector<haproxy_backend_server> servers;
  std::string health_check_path = "/__lbheartbeat__";
};

// Debian's haproxy in front of app instances, on a free port of 127.0.0.1, configured as a balancer
// in front of Dockerflow services is: HTTP health checks of /__lbheartbeat__ at a short interval,
// round robin, server-side keep-alive. Its admin socket lets a test ask whether haproxy considers a
// server UP or DOWN, which is the balancer's view a rolling restart depends on.
class haproxy_server {
public:
  explicit haproxy_server(haproxy_options options);
  ~haproxy_server() = default;

  haproxy_server(const haproxy_server&) = delete;
  haproxy_server& operator=(const haproxy_server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  pid_t pid() const noexcept { return process_->pid(); }

  // One command on the admin socket ("show stat", "show info", ...) and its whole answer.
  std::string admin_command(std::string_view command) const;

  // The rows of `show stat` for the backend's servers, keyed by server name; each row maps the CSV
  // header's column names ("status", "stot", "wretr", ...) to values.
  std::map<std::string, std::map<std::string, std::string>> server_stats() const;

  // The `status` column for one server: "UP", "DOWN", "UP 1/2" (a check failed, still in rotation),
  // "DOWN 1/2" (a check passed, not yet in rotation), "MAINT", ...
  std::string server_status(std::string_view server) const;
  // Waits (bounded) until the server's status is exactly "UP" (in rotation, no pending transition)
  // or starts with "DOWN" (out of rotation).
  bool wait_until_up(std::string_view server, std::chrono::milliseconds timeout) const;
  bool wait_until_down(std::string_view server, std::chrono::milliseconds timeout) const;

  // haproxy's log (one line per request with the termination state and retry count, and health
  // check transitions) and any warnings.
  std::string log_text() const;
  const std::filesystem::path& config_path() const noexcept { return config_path_; }

  // /usr/sbin/haproxy; throws with a hint to run scripts/setup.sh when it is missing.
  static std::filesystem::path binary_path();

private:
  haproxy_options options_;
  temp_dir dir_;
  std::uint16_t port_;
  std::filesystem::path socket_path_;
  std::filesystem::path config_path_;
  std::unique_ptr<child_process> process_;
};

} // namespace dockerflow::test
