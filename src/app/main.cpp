// Wiring only: read config → make logger → make checks → make heartbeat → make router → serve until a signal.
#include <dockerflow/checks/postgres_check.hpp>
#include <dockerflow/checks/redis_check.hpp>
#include <dockerflow/config.hpp>
#include <dockerflow/dockerflow_endpoints.hpp>
#include <dockerflow/healthcheck_client.hpp>
#include <dockerflow/heartbeat.hpp>
#include <dockerflow/mozlog.hpp>
#include <dockerflow/redact.hpp>
#include <dockerflow/router.hpp>
#include <dockerflow/server.hpp>
#include <dockerflow/version.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string_view>

namespace {

namespace asio = boost::asio;
using namespace dockerflow;

constexpr std::chrono::seconds shutdown_limit{9};  // inside Docker's default 10 s stop timeout

constexpr std::string_view usage =
    "usage: dockerflow-app [healthcheck]\n"
    "  (no argument)  serve the Dockerflow endpoints on $HOST:$PORT\n"
    "  healthcheck    exit 0 when /__lbheartbeat__ on the local $PORT answers 200, else 1\n"
    "Configuration comes from environment variables; see README.md.\n";

std::vector<std::unique_ptr<check>> make_checks(const config& cfg) {
  std::vector<std::unique_ptr<check>> checks;
  if (cfg.database_url) checks.push_back(std::make_unique<postgres_check>(*cfg.database_url, cfg.check_timeout));
  if (cfg.redis) checks.push_back(std::make_unique<redis_check>(*cfg.redis, cfg.check_timeout));
  // Register your own checks here, one line each.
  return checks;
}

// Hundreds of idle keep-alive clients must not exhaust the default soft limit of 1024.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int healthcheck(const config& cfg) {
  const std::string host = cfg.host == "0.0.0.0" ? "127.0.0.1" : cfg.host == "::" ? "::1" : cfg.host;
  return probe_lbheartbeat(host, cfg.port, std::chrono::seconds(3)) ? 0 : 1;
}

void stop_when_drained(asio::steady_timer& timer, const server& srv, asio::io_context& io,
                       std::chrono::steady_clock::time_point limit) {
  if (srv.drained() || std::chrono::steady_clock::now() >= limit) return io.stop();
  timer.expires_after(std::chrono::milliseconds(20));
  timer.async_wait([&timer, &srv, &io, limit](boost::system::error_code) { stop_when_drained(timer, srv, io, limit); });
}

// On the first signal: stop accepting, let requests in flight finish, stop the loop when drained.
void stop_on_signal(asio::signal_set& signals, asio::steady_timer& drain, server& srv, const mozlog& log,
                    asio::io_context& io) {
  signals.async_wait([&](boost::system::error_code ec, int signal) {
    if (ec) return;
    log.info("server.stopping", {{"signal", signal}});
    srv.shutdown();
    // A second signal means "now": stop without waiting for requests in flight.
    signals.async_wait([&](boost::system::error_code again, int) {
      if (!again) io.stop();
    });
    stop_when_drained(drain, srv, io, std::chrono::steady_clock::now() + shutdown_limit);
  });
}

int serve(const config& cfg, const version_info& version) {
  const auto log = make_stdout_mozlog(cfg.logger_name, cfg.log_level);
  raise_open_file_limit();

  asio::io_context io{1};
  heartbeat beat(io.get_executor(), make_checks(cfg), cfg.check_timeout);
  router routes;
  add_dockerflow_routes(routes, version, beat, cfg.heartbeat_failed_status);

  server srv(io, routes, log);
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(cfg.host), cfg.port);
  try {
    srv.listen(endpoint);
  } catch (const boost::system::system_error& e) {
    std::cerr << "dockerflow-app: cannot listen on HOST=" << cfg.host << " PORT=" << cfg.port << ": "
              << e.code().message() << "\n";
    return 1;
  }
  srv.start();
  log.info("server.listening", {{"host", cfg.host},
                                {"port", srv.local_endpoint().port()},
                                {"version", version.version},
                                {"commit", version.commit},
                                {"checks", beat.check_names()},
                                {"database", cfg.database_url ? redact_url(*cfg.database_url) : ""},
                                {"redis", cfg.redis_url_redacted}});

  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer drain(io);
  stop_on_signal(signals, drain, srv, log, io);
  io.run();
  log.info("server.stopped", nlohmann::json::object());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command == "--help" || command == "-h") {
    std::cout << usage;
    return 0;
  }
  if (!command.empty() && command != "healthcheck") {
    std::cerr << "dockerflow-app: unknown argument \"" << command << "\"\n" << usage;
    return 2;
  }
  try {
    const auto cfg = parse_config(process_environment());
    if (command == "healthcheck") return healthcheck(cfg);
    const auto version = load_version_file(cfg.version_file);
    const int code = serve(cfg, version);  // returns after the log writer has drained
    // A probe thread may still be blocked inside libpq on a hung server; skipping static destructors
    // means none of them runs underneath it.
    std::fflush(nullptr);
    std::_Exit(code);
  } catch (const config_error& e) {
    std::cerr << "dockerflow-app: " << e.what() << "\n";
  } catch (const version_error& e) {
    std::cerr << "dockerflow-app: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "dockerflow-app: fatal: " << e.what() << "\n";
  }
  return 1;
}
