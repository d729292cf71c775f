#pragma once

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dockerflow::test {

struct redis_options {
  std::optional<std::string> password; // set: clients must AUTH (requirepass)
  // More redis-server arguments, e.g. {"--rename-command", "PING", ""} for a server that refuses PING.
  std::vector<std::string> extra_args;
};

// A throwaway redis-server on a free port of 127.0.0.1 without persistence, so nothing is written
// outside its temp dir. Tests stop, restart and freeze it to simulate outages.
class redis_server {
public:
  explicit redis_server(redis_options options = {});
  ~redis_server() = default;

  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  // Starts on the same port every time and waits until it answers PING.
  void start();
  void stop();
  void restart();
  // SIGKILL, frozen or not, as when the host dies: open connections end at once.
  void crash();
  // Used from the next start() on (same port): a server restarted with a corrected configuration.
  void set_options(redis_options options) { options_ = std::move(options); }
  bool running() const noexcept { return process_ != nullptr; }

  pid_t pid() const;
  // SIGSTOP / SIGCONT: the kernel still completes TCP handshakes, but nothing answers, as with a
  // frozen host; that is the case a client's timeouts must handle.
  void pause();
  void resume();

  std::uint16_t port() const noexcept { return port_; }
  // redis://[:password@]127.0.0.1:port/0
  std::string url() const;
  std::string log_text() const;
  // A field of `INFO <section>` read with redis-cli, e.g. info_field("stats", "total_commands_processed")
  // or info_field("commandstats", "cmdstat_ping") (whose text is "calls=N,usec=…"). Empty if absent.
  std::string info_field(const std::string& section, const std::string& field) const;
  // Calls of one command so far (INFO commandstats), 0 before its first.
  std::uint64_t command_calls(const std::string& command) const;

private:
  redis_options options_;
  temp_dir dir_;
  std::uint16_t port_;
  std::unique_ptr<child_process> process_;
  bool paused_ = false;
};

} // namespace dockerflow::test
