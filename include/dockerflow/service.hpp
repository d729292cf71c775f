#pragma once

#include <dockerflow/health/check.hpp>
#include <dockerflow/ops/config.hpp>
#include <dockerflow/http/router.hpp>
#include <dockerflow/ops/version.hpp>

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace dockerflow {

// A Dockerflow service: the three Dockerflow routes, the application's own routes and checks, served
// with everything the reference binary has (loop threads, drain on SIGTERM, metrics, mozlog), all
// configured from the environment. The whole of a service's main is usually service_main below.
class service;
[[noreturn]] void service_main(int argc, char** argv, std::string_view program,
                               const std::function<void(service&)>& setup);

class service {
 public:
  service(config cfg, version_info version);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  const config& settings() const noexcept;
  // A check, reported under its own name() (two Postgres checks can be "primary" and "replica").
  service& add_check(std::unique_ptr<check> c);
  // The application's routes; /__lbheartbeat__, /__version__, /__heartbeat__ (and /__error__) are
  // added by run() and keep refusing bodies.
  dockerflow::router& router();

  // Serves on $HOST:$PORT until a signal has drained and stopped it. Returns the process exit code:
  // 0 after a stop, 1 when it cannot listen (with a message naming the variable on stderr). Blocks
  // SIGINT and SIGTERM in the calling thread and reads them from a signalfd (see stop_signals).
  int run();

 private:
  friend void service_main(int, char**, std::string_view, const std::function<void(service&)>&);
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The checks the environment asks for: `postgres` from DATABASE_URL, `redis` from REDIS_URL.
std::vector<std::unique_ptr<check>> environment_checks(const config& cfg);

// A service's whole main: `--help`, the `healthcheck` command for container health checks, signals
// held from the first instruction, configuration and version file read and validated (a bad value
// exits 1 naming the variable or file), then `setup` adds routes and checks, then the service runs.
// Never returns: the process ends with _Exit, so no static destructor runs under a probe thread that
// a hung dependency still blocks.
[[noreturn]] void service_main(int argc, char** argv, std::string_view program,
                               const std::function<void(service&)>& setup);

}  // namespace dockerflow
