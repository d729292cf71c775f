#include <dockerflow/service.hpp>

#include <dockerflow/health/check_observer.hpp>
#include <dockerflow/checks/postgres_check.hpp>
#include <dockerflow/checks/redis_check.hpp>
#include <dockerflow/ops/cpu_limit.hpp>
#include <dockerflow/http/dockerflow_endpoints.hpp>
#include <dockerflow/http/graceful_stop.hpp>
#include <dockerflow/http/stop_signals.hpp>
#include <dockerflow/http/healthcheck_client.hpp>
#include <dockerflow/health/heartbeat.hpp>
#include <dockerflow/http/lifecycle.hpp>
#include <dockerflow/ops/metrics.hpp>
#include <dockerflow/ops/mozlog.hpp>
#include <dockerflow/ops/prometheus_metrics.hpp>
#include <dockerflow/ops/redact.hpp>
#include <dockerflow/http/server.hpp>
#include <dockerflow/ops/statsd_metrics.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <pthread.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace dockerflow {
namespace {

namespace asio = boost::asio;

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

// Docker's default stop timeout is 10 s; past 9 s the SIGKILL may come before the answers in flight.
void warn_if_slower_than_docker_stop(const config& cfg, const mozlog& log) {
  const auto worst = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.drain) + cfg.check_timeout;
  if (worst <= std::chrono::seconds(9)) return;
  log.warning("server.stop_budget", {{"drain_seconds", cfg.drain.count()},
                                     {"check_timeout_ms", cfg.check_timeout.count()},
                                     {"message", "drain plus check timeout exceeds 9 s; raise the orchestrator's "
                                                 "stop timeout (docker stop -t, stop_grace_period)"}});
}

// The calling thread is one of the loop threads; the others are named so they can be told apart.
void run_loop(asio::io_context& io, unsigned threads, const mozlog& log) {
  const auto run = [&io, &log] {
    try {
      io.run();
    } catch (const std::exception& e) {
      log.error("server.loop", {{"error", e.what()}});
      io.stop();
    }
  };
  std::vector<std::thread> extra;
  for (unsigned i = 1; i < threads; ++i)
    extra.emplace_back([run, i] {
      pthread_setname_np(pthread_self(), ("loop-" + std::to_string(i)).c_str());
      run();
    });
  run();
  for (auto& t : extra) t.join();
}

// statsd when STATSD_HOST is set, Prometheus when METRICS_PORT is; both see the same events.
struct metrics_backends {
  std::shared_ptr<prometheus_metrics> prometheus;
  metrics_fanout all;
};

metrics_backends make_metrics(const config& cfg, const mozlog& log) {
  metrics_backends made;
  std::vector<std::shared_ptr<metrics>> backends;
  if (cfg.statsd) backends.push_back(make_statsd_metrics(*cfg.statsd, log));
  if (cfg.metrics_port) {
    made.prometheus = std::make_shared<prometheus_metrics>([&log] { return log.dropped_lines(); });
    backends.push_back(made.prometheus);
  }
  made.all = metrics_fanout(std::move(backends));
  return made;
}

bool listen_or_explain(server& srv, const std::string& program, const std::string& host, std::uint16_t port,
                       std::string_view variable) {
  try {
    srv.listen(asio::ip::tcp::endpoint(asio::ip::make_address(host), port));
    return true;
  } catch (const boost::system::system_error& e) {
    std::cerr << program << ": cannot listen on HOST=" << host << " " << variable << "=" << port << ": "
              << e.code().message() << "\n";
    return false;
  }
}

health_policy policy_of(const config& cfg) {
  return {cfg.heartbeat_cache, cfg.failures_before_error, cfg.check_warn, cfg.silenced_checks};
}

}  // namespace

struct service::impl {
  config cfg;
  version_info version;
  std::vector<std::unique_ptr<check>> checks;
  dockerflow::router routes;
  std::string program = "dockerflow-app";
};

service::service(config cfg, version_info version)
    : impl_(std::make_unique<impl>(impl{std::move(cfg), std::move(version), {}, {}, "dockerflow-app"})) {}

service::~service() = default;

const config& service::settings() const noexcept { return impl_->cfg; }

service& service::add_check(std::unique_ptr<check> c) {
  impl_->checks.push_back(std::move(c));
  return *this;
}

dockerflow::router& service::router() { return impl_->routes; }

std::vector<std::unique_ptr<check>> environment_checks(const config& cfg) {
  std::vector<std::unique_ptr<check>> checks;
  if (cfg.database_url)
    checks.push_back(std::make_unique<postgres_check>(*cfg.database_url, cfg.check_timeout, cfg.ca_file));
  if (cfg.redis) checks.push_back(std::make_unique<redis_check>(*cfg.redis, cfg.check_timeout));
  return checks;
}

int service::run() {
  const auto& cfg = impl_->cfg;
  const auto& version = impl_->version;
  const unsigned threads = cfg.threads.value_or(usable_cpus());
  asio::io_context io{static_cast<int>(threads)};
  stop_signals signals(asio::make_strand(io));  // before any thread starts: they inherit the blocked signals

  // Never destroyed: destroying it joins the writer thread, which a stdout nobody reads can block
  // forever. The process ends with _Exit once the last lines are written or a bounded wait is over.
  const auto& log = *new mozlog(make_stdout_mozlog(cfg.logger_name, cfg.log_level));
  raise_open_file_limit();
  auto measure = make_metrics(cfg, log);

  lifecycle life;
  heartbeat beat(io.get_executor(), std::move(impl_->checks), cfg.check_timeout, policy_of(cfg),
                 observe_checks(log, measure.all));
  auto& routes = impl_->routes;
  add_dockerflow_routes(routes, version, beat, life, measure.all,
                        {cfg.heartbeat_failed_status, cfg.details_token, cfg.error_endpoint});

  server srv(io, routes, log, life, measure.all, {.log_probes = cfg.log_probes, .loop_threads = threads});
  if (!listen_or_explain(srv, impl_->program, cfg.host, cfg.port, "PORT")) return 1;
  std::vector<server*> servers{&srv};

  // /metrics lives on its own port so it is never exposed where the public routes are.
  dockerflow::router metrics_routes;
  lifecycle metrics_life;
  std::optional<server> metrics_srv;
  if (measure.prometheus) {
    add_metrics_routes(metrics_routes, *measure.prometheus);
    metrics_srv.emplace(io, metrics_routes, log, metrics_life, measure.all, server_options{.loop_threads = threads});
    if (!listen_or_explain(*metrics_srv, impl_->program, cfg.host, *cfg.metrics_port, "METRICS_PORT")) return 1;
    servers.push_back(&*metrics_srv);
  }
  for (auto* s : servers) s->start();
  log.info("server.listening", {{"host", cfg.host},
                                {"port", srv.local_endpoint().port()},
                                {"metrics_port", metrics_srv ? metrics_srv->local_endpoint().port() : 0},
                                {"statsd", cfg.statsd ? cfg.statsd->host + ":" + std::to_string(cfg.statsd->port) : ""},
                                {"version", version.version},
                                {"commit", version.commit},
                                {"checks", beat.check_names()},
                                {"database", cfg.database_url ? redact_url(*cfg.database_url) : ""},
                                {"redis", cfg.redis_url_redacted},
                                {"threads", threads},
                                {"drain_seconds", cfg.drain.count()},
                                {"details_private", cfg.details_token.has_value()}});
  warn_if_slower_than_docker_stop(cfg, log);

  // In-flight answers get what the slowest one needs: a heartbeat's deadline, its grace and a write.
  graceful_stop stopper(io, signals, servers, log, {cfg.drain, cfg.check_timeout + std::chrono::seconds(1)});
  stopper.arm();
  run_loop(io, threads, log);
  log.info("server.stopped", {{"log_lines_dropped", log.dropped_lines()}});
  log.written_within(std::chrono::seconds(1));
  return 0;
}

void service_main(int argc, char** argv, std::string_view program, const std::function<void(service&)>& setup) {
  const std::string name(program);
  const std::string usage = "usage: " + name + " [healthcheck]\n"
                            "  (no argument)  serve on $HOST:$PORT\n"
                            "  healthcheck    exit 0 when /__lbheartbeat__ on the local $PORT answers 200, else 1\n"
                            "Configuration comes from environment variables.\n";
  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command == "--help" || command == "-h") {
    std::cout << usage << std::flush;
    std::_Exit(0);
  }
  if (!command.empty() && command != "healthcheck") {
    std::cerr << name << ": unknown argument \"" << command << "\"\n" << usage;
    std::_Exit(2);
  }
  // From the first instruction, so a SIGTERM during start-up waits to start a drain instead of killing.
  if (command.empty()) stop_signals::hold();
  int code = 1;
  try {
    const auto env = process_environment();
    auto cfg = parse_config(env);
    if (!env.contains("LOGGER_NAME")) cfg.logger_name = name;  // log lines name the service they come from
    if (command == "healthcheck") {
      std::_Exit(healthcheck(cfg));
    }
    auto version = load_version_file(cfg.version_file);
    service svc(std::move(cfg), std::move(version));
    svc.impl_->program = name;
    setup(svc);
    code = svc.run();  // returns once its last log lines are written, or 1 s at most
  } catch (const config_error& e) {
    std::cerr << name << ": " << e.what() << "\n";
  } catch (const version_error& e) {
    std::cerr << name << ": " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << name << ": fatal: " << e.what() << "\n";
  }
  // A probe thread may still be blocked inside libpq on a hung server; skipping static destructors
  // means none of them runs underneath it. Not fflush(stdout): the log writer may hold its lock,
  // blocked on a stdout nobody reads.
  std::fflush(stderr);
  std::_Exit(code);
}

}  // namespace dockerflow
