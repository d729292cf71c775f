#include "support/redis_server.hpp"

#include "support/free_port.hpp"
#include "support/process_inspection.hpp"
#include "support/tcp_connection.hpp"

#include <signal.h>

#include <stdexcept>
#include <thread>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

// True once the server replies to PING. With requirepass it replies -NOAUTH, which also proves it
// is up and serving commands.
bool answers_ping(std::uint16_t port) {
  try {
    tcp_connection connection(port, 200ms);
    connection.send_all("PING\r\n", 200ms);
    std::string reply;
    auto deadline = test_clock::now() + 500ms;
    while (reply.find("\r\n") == std::string::npos) {
      if (connection.read_some(reply, deadline) != read_outcome::data) {
        return false;
      }
    }
    // A server whose PING was renamed away (redis_options::extra_args) answers, too.
    return reply.rfind("+PONG", 0) == 0 || reply.rfind("-NOAUTH", 0) == 0 ||
           reply.rfind("-ERR unknown command", 0) == 0;
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace

redis_server::redis_server(redis_options options)
    : options_(std::move(options)), dir_("dockerflow-redis"), port_(free_port()) {
  start();
}

void redis_server::start() {
  if (process_) {
    return;
  }
  std::vector<std::string> argv{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--dir", dir_.path().string(),
                                "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning"};
  if (options_.password) {
    argv.push_back("--requirepass");
    argv.push_back(*options_.password);
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  process_ = std::make_unique<child_process>(
      child_options{argv, minimal_env(), dir_.path(), dir_.path(), "redis", {}});
  paused_ = false;
  auto deadline = test_clock::now() + 10s;
  while (!answers_ping(port_)) {
    if (!process_->running()) {
      auto text = process_->stdout_text() + process_->stderr_text();
      process_.reset();
      throw std::runtime_error("redis-server exited during start-up: " + text);
    }
    if (test_clock::now() >= deadline) {
      process_.reset();
      throw std::runtime_error("redis-server did not answer PING within 10 s on port " + std::to_string(port_));
    }
    std::this_thread::sleep_for(10ms);
  }
}

void redis_server::stop() {
  if (!process_) {
    return;
  }
  resume();
  process_->send_signal(SIGTERM);
  if (!process_->wait_for(10s)) {
    process_->kill_now();
  }
  process_.reset();
}

void redis_server::crash() {
  if (process_) {
    process_->kill_now();
    process_.reset();
  }
  paused_ = false;
}

void redis_server::restart() {
  stop();
  start();
}

pid_t redis_server::pid() const {
  if (!process_) {
    throw std::runtime_error("redis-server is not running");
  }
  return process_->pid();
}

void redis_server::pause() {
  if (process_ && !paused_) {
    process_->send_signal(SIGSTOP);
    paused_ = true;
    // kill() returns before the process has stopped; a request sent in between would be answered.
    if (!wait_until_stopped({process_->pid()}, 5s)) {
      throw std::runtime_error("redis-server did not stop after SIGSTOP");
    }
  }
}

void redis_server::resume() {
  if (process_ && paused_) {
    process_->send_signal(SIGCONT);
    paused_ = false;
    if (!wait_until_running({process_->pid()}, 5s)) {
      throw std::runtime_error("redis-server did not continue after SIGCONT");
    }
  }
}

std::string redis_server::url() const {
  std::string credentials = options_.password ? ":" + *options_.password + "@" : "";
  return "redis://" + credentials + "127.0.0.1:" + std::to_string(port_) + "/0";
}

std::string redis_server::log_text() const {
  return process_ ? process_->stdout_text() + process_->stderr_text() : "";
}

std::string redis_server::info_field(const std::string& section, const std::string& field) const {
  std::vector<std::string> argv{"redis-cli", "-h", "127.0.0.1", "-p", std::to_string(port_)};
  if (options_.password) {
    argv.insert(argv.end(), {"--no-auth-warning", "-a", *options_.password});
  }
  argv.insert(argv.end(), {"INFO", section});
  const auto result = run_command(child_options{argv, minimal_env(), dir_.path(), dir_.path(), "redis-cli", {}}, 10s);
  if (!result.status.success()) {
    throw std::runtime_error("redis-cli INFO " + section + " failed: " + result.stderr_text);
  }
  const std::string key = field + ":";
  for (std::size_t at = 0; at < result.stdout_text.size();) {
    auto end = result.stdout_text.find('\n', at);
    if (end == std::string::npos) end = result.stdout_text.size();
    auto line = result.stdout_text.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.starts_with(key)) return line.substr(key.size());
    at = end + 1;
  }
  return {};
}

std::uint64_t redis_server::command_calls(const std::string& command) const {
  const auto stats = info_field("commandstats", "cmdstat_" + command);
  if (!stats.starts_with("calls=")) return 0;
  return std::stoull(stats.substr(6, stats.find(',') - 6));
}

} // namespace dockerflow::test
