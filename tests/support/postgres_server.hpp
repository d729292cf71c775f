#pragma once

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dockerflow::test {

struct postgres_options {
  std::string user = "dockerflow";
  // Set: TCP clients must authenticate with it (scram-sha-256). Unset: TCP clients are trusted.
  std::optional<std::string> password;
  std::string database = "dockerflow";
  // Log every statement (log_min_duration_statement=0), so tests can count what a client executed.
  bool log_statements = false;
  // Serve TLS (ssl=on) with a certificate for localhost and 127.0.0.1 from a CA made with openssl.
  bool tls = false;
  // Set: the server admits this many connections, with none reserved for superusers (the test user
  // is one), so a test can fill every slot.
  std::optional<int> max_connections;
};

// A throwaway PostgreSQL cluster: initdb into a temp dir, served on a free port of 127.0.0.1 with
// its unix socket inside the temp dir, so it never touches a system cluster. Tests stop, restart
// and freeze it to simulate outages of a real database.
class postgres_server {
public:
  explicit postgres_server(postgres_options options = {});
  ~postgres_server();

  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;

  // Starts the server (on the same port every time) and waits until it accepts connections.
  void start();
  // Fast shutdown (pg_ctl stop -m fast): open connections are ended, like a database going away.
  void stop();
  void restart();
  // SIGKILL to the postmaster and every backend, frozen or not, as when the host dies; start() then
  // brings the cluster back on the same port after crash recovery.
  void crash();
  // Rewrites the authentication method of TCP connections in pg_hba.conf ("trust", "scram-sha-256")
  // and reloads: new connections use it, as after an operator fixed the server's configuration.
  void set_host_auth(const std::string& method);
  bool running() const noexcept { return running_; }

  // The postmaster's pid.
  pid_t pid() const;
  // SIGSTOP / SIGCONT to the postmaster and every backend: an open connection must hang too, as it
  // does when a database host freezes, or a client with a kept-open connection would not notice.
  void pause();
  void resume();

  std::uint16_t port() const noexcept { return port_; }
  // postgresql://user[:password]@127.0.0.1:port/database
  std::string url() const;
  const postgres_options& options() const noexcept { return options_; }
  std::string log_text() const;
  // With tls: the CA that signed the server's certificate, and another CA that did not.
  std::filesystem::path ca_file() const { return dir_ / "tls" / "ca.pem"; }
  std::filesystem::path other_ca_file() const { return dir_ / "tls" / "other-ca.pem"; }
  // How many logged statements contain `text` (needs log_statements).
  std::size_t statements_logged(const std::string& text) const;

private:
  void make_certificates();
  command_result run_tool(const std::string& tool, std::vector<std::string> args,
                          std::chrono::milliseconds timeout) const;
  std::vector<pid_t> signal_all(int sig) const;
  // Immediate shutdown of any postmaster in the data dir, frozen or not; never throws.
  void shut_down_now() noexcept;

  postgres_options options_;
  temp_dir dir_;
  std::filesystem::path bin_dir_;
  std::filesystem::path data_dir_;
  std::filesystem::path socket_dir_;
  std::filesystem::path log_file_;
  std::uint16_t port_;
  bool running_ = false;
  bool paused_ = false;
};

// The newest /usr/lib/postgresql/<version>/bin holding initdb, pg_ctl and postgres.
std::filesystem::path find_postgres_bin_dir();

} // namespace dockerflow::test
