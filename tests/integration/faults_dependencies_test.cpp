// The fault suite, dependency side: real PostgreSQL and Redis processes frozen under load, killed in
// the middle of a probe, restarted on the same port, full, demanding credentials the service lacks,
// answering PING with an error, behind a host name that does not resolve, or absent. Every fault is
// held to the same four promises (fault_watch below):
//   1. /__heartbeat__ answers within DOCKERFLOW_CHECK_TIMEOUT_MS + 500 ms, naming the failing check
//      and the message id that fits the fault (E001: not reachable, E002: answered wrongly);
//   2. the app is still running;
//   3. once the fault is removed the heartbeat returns to 200 with no restart (same pid);
//   4. /__lbheartbeat__, sampled every 10 ms on new connections while the fault is in force, keeps
//      p99 under 50 ms (the figures are printed so they can be quoted).
#include "support/app_process.hpp"
#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/lbheartbeat_probe.hpp"
#include "support/log_reader.hpp"
#include "support/network_namespace.hpp"
#include "support/postgres_server.hpp"
#include "support/process_inspection.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto check_timeout = 1000ms;
constexpr auto answer_bound = check_timeout + 500ms;
constexpr auto lbheartbeat_p99_bound = 50ms;

std::chrono::milliseconds since(test_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(test_clock::now() - start);
}

// Every heartbeat probes (no result cache), so each one shows the fault as it is right now.
env_map app_env(env_map extra) {
  extra.try_emplace("DOCKERFLOW_CHECK_TIMEOUT_MS", std::to_string(check_timeout.count()));
  extra.try_emplace("DOCKERFLOW_HEARTBEAT_CACHE_MS", "0");
  return extra;
}

struct expected_failure {
  std::string check; // "postgres"
  std::string id;    // "postgres.E002"
  std::string text;  // a part of the message that names the cause
};

struct timed_response {
  http_response response;
  std::chrono::milliseconds elapsed{0};
};

timed_response timed_heartbeat(std::uint16_t port) {
  const auto start = test_clock::now();
  auto response = http_get(port, "/__heartbeat__", {}, 10s);
  return {std::move(response), since(start)};
}

// A faulty run of one app: the lbheartbeat sampler starts with it, and the four promises are checked
// through it in order.
class fault_watch {
public:
  fault_watch(app_process& app, std::string fault)
      : app_(app), fault_(std::move(fault)), pid_(app.pid()), probe_(app.port()) {}

  // Promises 1 and 2, heartbeat after heartbeat for `duration`, so the sampler sees the fault in force
  // for a while rather than for one fast answer.
  void hold(const std::vector<expected_failure>& failures, std::chrono::milliseconds duration = 1500ms) {
    const auto start = test_clock::now();
    do {
      expect_reported(failures);
      std::this_thread::sleep_for(50ms);
    } while (since(start) < duration && !::testing::Test::HasFailure());
  }

  // Promises 1 and 2 for one heartbeat; returns its body.
  json expect_reported(const std::vector<expected_failure>& failures) {
    const auto heartbeat = timed_heartbeat(app_.port());
    slowest_ = std::max(slowest_, heartbeat.elapsed);
    ++heartbeats_;
    EXPECT_LT(heartbeat.elapsed, answer_bound) << fault_ << ": heartbeat too slow";
    EXPECT_EQ(heartbeat.response.status, 500) << heartbeat.response.body;
    EXPECT_TRUE(app_.process().running()) << fault_ << ": the app died (" << describe_exit() << ")";
    json body = json::object();
    try {
      body = heartbeat.response.json();
    } catch (const json::exception&) {
      ADD_FAILURE() << fault_ << ": heartbeat body is not JSON: " << heartbeat.response.body;
      return body;
    }
    SCOPED_TRACE(fault_ + ": " + body.dump());
    EXPECT_EQ(body["status"], "error");
    for (const auto& f : failures) {
      EXPECT_EQ(body["checks"][f.check], "error") << f.check;
      const auto& messages = body["details"][f.check]["messages"];
      if (!messages.is_object() || !messages.contains(f.id)) {
        ADD_FAILURE() << "expected " << f.id << " for " << f.check;
        continue;
      }
      EXPECT_NE(messages[f.id].get<std::string>().find(f.text), std::string::npos)
          << f.id << " should mention \"" << f.text << "\"";
      if (heartbeats_ == 1) messages_ += f.id + " \"" + messages[f.id].get<std::string>() + "\" ";
    }
    for (const auto& [name, level] : body["checks"].items()) {
      const bool failing = std::any_of(failures.begin(), failures.end(), [&](const auto& f) { return f.check == name; });
      if (!failing) {
        EXPECT_EQ(level, "ok") << name << " is not part of this fault";
      }
    }
    return body;
  }

  // Promise 3: polls until 200 with every check ok, then checks it is the same process.
  void expect_recovers(std::chrono::milliseconds within) {
    const auto start = test_clock::now();
    http_response last;
    const bool recovered = eventually(
        within,
        [&] {
          last = http_get(app_.port(), "/__heartbeat__", {}, 10s);
          return last.status == 200;
        },
        50ms);
    recovery_ = since(start);
    ASSERT_TRUE(recovered) << fault_ << ": no recovery within " << within.count() << " ms: " << last.status
                           << " " << last.body;
    const auto body = last.json();  // named: a range-for over a temporary's member would dangle
    for (const auto& [name, level] : body["checks"].items()) EXPECT_EQ(level, "ok") << name;
    ASSERT_TRUE(app_.process().running()) << fault_ << ": " << describe_exit();
    EXPECT_EQ(app_.pid(), pid_);
    // The pid the app logs is the one the test watches: a wrapper (ip netns exec) exec'd the app
    // rather than forking it, so "still running, same pid" speaks about the app itself.
    const auto listening = parse_log(app_.stdout_lines()).of_type("server.listening");
    ASSERT_EQ(listening.size(), 1u) << "started more than once?\n" << app_.stdout_text();
    EXPECT_EQ(listening.front()["Pid"], pid_);
  }

  // Promise 4: stops the sampler, prints the figures and holds them to the bound.
  void expect_lbheartbeat_unaffected() {
    const auto s = probe_.stop();
    std::cout << "[ fault    ] " << fault_ << ": " << heartbeats_ << " heartbeats, slowest " << slowest_.count() << " ms (bound "
              << answer_bound.count() << " ms) " << messages_ << "| recovered in " << recovery_.count()
              << " ms | lbheartbeat " << s.describe() << std::endl;
    ::testing::Test::RecordProperty("lbheartbeat", s.describe());
    EXPECT_EQ(s.failures, 0u) << fault_ << ": " << s.describe();
    // A fault that already failed its promises stops early; too few samples is then no news.
    if (!::testing::Test::HasFailure()) {
      EXPECT_GE(s.samples, 20u) << "too few lbheartbeat samples to judge";
    }
    EXPECT_LT(s.p99, lbheartbeat_p99_bound) << fault_ << ": " << s.describe();
  }

private:
  std::string describe_exit() {
    return app_.process().status() ? app_.process().status()->describe() + "\nstderr: " + app_.stderr_text()
                                   : "running";
  }

  app_process& app_;
  std::string fault_;
  pid_t pid_;
  lbheartbeat_probe probe_;
  std::chrono::milliseconds slowest_{0};
  std::size_t heartbeats_ = 0;
  std::chrono::milliseconds recovery_{0};
  std::string messages_;
};

void expect_healthy(const app_process& app) {
  const auto response = http_get(app.port(), "/__heartbeat__", {}, 10s);
  ASSERT_EQ(response.status, 200) << response.body;
}

std::string redis_url_without_password(const redis_server& redis) {
  return "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0";
}

// ---------------------------------------------------------------------------------------------
// Dependency state

// Keep-alive clients asking for /__version__ and /__heartbeat__ in a loop, as a busy service sees.
class background_load {
public:
  background_load(std::uint16_t port, int version_clients, int heartbeat_clients) {
    for (int i = 0; i < version_clients + heartbeat_clients; ++i) {
      const bool heartbeat = i >= version_clients;
      threads_.emplace_back([this, port, heartbeat](std::stop_token stop) { run(stop, port, heartbeat); });
    }
  }
  ~background_load() { stop(); }

  void stop() {
    for (auto& t : threads_) t.request_stop();
    threads_.clear();  // joins
  }

  std::size_t answered() const { return answered_; }
  std::size_t failed() const { return failed_; }
  std::chrono::milliseconds slowest_heartbeat() const { return std::chrono::milliseconds(slowest_heartbeat_ms_); }

private:
  void run(const std::stop_token& stop, std::uint16_t port, bool heartbeat) {
    const auto request = make_request("GET", heartbeat ? "/__heartbeat__" : "/__version__");
    std::unique_ptr<http_connection> connection;
    while (!stop.stop_requested()) {
      const auto start = test_clock::now();
      try {
        if (!connection) connection = std::make_unique<http_connection>(port, 5s);
        connection->send(request);
        const auto response = connection->read_response(false, 10s);
        const bool expected = heartbeat ? (response.status == 200 || response.status == 500) : response.status == 200;
        ++(expected ? answered_ : failed_);
        if (heartbeat) {
          const auto took = static_cast<long long>(since(start).count());
          for (auto seen = slowest_heartbeat_ms_.load(); took > seen && !slowest_heartbeat_ms_.compare_exchange_weak(seen, took);) {
          }
        }
      } catch (const std::exception&) {
        ++failed_;
        connection.reset();
      }
      // Busy but not saturating: two cores are shared by the app, these clients and the sampler.
      std::this_thread::sleep_for(heartbeat ? 20ms : 2ms);
    }
  }

  std::atomic<std::size_t> answered_{0};
  std::atomic<std::size_t> failed_{0};
  std::atomic<long long> slowest_heartbeat_ms_{0};
  std::vector<std::jthread> threads_;
};

TEST(FaultsDependencyState, HungPostgresAndRedisUnderLoad) {
  postgres_server postgres;
  redis_server redis;
  app_process app({.env = app_env({{"DATABASE_URL", postgres.url()}, {"REDIS_URL", redis.url()}})});
  expect_healthy(app);

  background_load load(app.port(), 2, 2);
  std::this_thread::sleep_for(300ms);
  fault_watch watch(app, "postgres and redis hung (SIGSTOP) under load");
  postgres.pause();
  redis.pause();
  watch.hold({{"postgres", "postgres.E001", "timed out after 1000 ms"},
              {"redis", "redis.E001", "timed out after 1000 ms"}},
             2500ms);
  // At most one probe per check while hung, however many heartbeats wait.
  EXPECT_LE(tcp_connections_to(app.pid(), redis.port()), 2u);
  EXPECT_LE(tcp_connections_to(app.pid(), postgres.port()), 2u);
  postgres.resume();
  redis.resume();
  watch.expect_recovers(10s);
  watch.expect_lbheartbeat_unaffected();

  load.stop();
  std::cout << "[ fault    ] load: " << load.answered() << " answered, " << load.failed()
            << " failed, slowest heartbeat " << load.slowest_heartbeat().count() << " ms" << std::endl;
  EXPECT_EQ(load.failed(), 0u);
  EXPECT_GT(load.answered(), 100u);
  EXPECT_LT(load.slowest_heartbeat(), answer_bound);
}

// A heartbeat whose probe is stuck on a frozen server, then the server is killed: the probe must end
// with the connection, and the answer must still come within the deadline.
template <typename Server>
void kill_during_probe(app_process& app, Server& server, fault_watch& watch, const expected_failure& failure) {
  server.pause();
  timed_response stuck;
  test_clock::time_point answered;
  std::thread heartbeat([&] {
    stuck = timed_heartbeat(app.port());
    answered = test_clock::now();
  });
  std::this_thread::sleep_for(300ms);
  const auto killed = test_clock::now();
  server.crash();
  heartbeat.join();
  const auto after_kill = std::chrono::duration_cast<std::chrono::milliseconds>(answered - killed);
  std::cout << "[ fault    ] heartbeat stuck on the frozen server answered " << after_kill.count()
            << " ms after the kill (" << stuck.elapsed.count() << " ms in all): " << stuck.response.body << std::endl;
  EXPECT_GE(answered, killed) << "the probe did not wait on the frozen server";
  EXPECT_LT(after_kill, 500ms) << "the kill should end the probe, not its deadline";
  EXPECT_LT(stuck.elapsed, answer_bound);
  EXPECT_EQ(stuck.response.status, 500);
  EXPECT_EQ(stuck.response.json()["checks"][failure.check], "error");
  EXPECT_TRUE(stuck.response.json()["details"][failure.check]["messages"].contains(failure.id));
  // Nothing listens on the port now.
  watch.hold({failure});
}

TEST(FaultsDependencyState, RedisKilledMidProbeAndRestartedOnTheSamePort) {
  redis_server redis;
  app_process app({.env = app_env({{"REDIS_URL", redis.url()}})});
  expect_healthy(app);
  const auto port = redis.port();

  fault_watch watch(app, "redis killed (SIGKILL) mid-probe");
  kill_during_probe(app, redis, watch, {"redis", "redis.E001", "refused"});
  redis.start();
  ASSERT_EQ(redis.port(), port);
  watch.expect_recovers(10s);
  watch.expect_lbheartbeat_unaffected();
}

TEST(FaultsDependencyState, PostgresKilledMidProbeAndRestartedOnTheSamePort) {
  postgres_server postgres;
  app_process app({.env = app_env({{"DATABASE_URL", postgres.url()}})});
  expect_healthy(app);
  const auto port = postgres.port();

  fault_watch watch(app, "postgres killed (SIGKILL) mid-probe");
  kill_during_probe(app, postgres, watch, {"postgres", "postgres.E001", "refused"});
  postgres.start();  // crash recovery first, then it accepts again
  ASSERT_EQ(postgres.port(), port);
  watch.expect_recovers(20s);
  watch.expect_lbheartbeat_unaffected();
}

// ---------------------------------------------------------------------------------------------
// Refused or broken dependencies

// Sessions that each hold one of the server's connection slots: psql sleeping in pg_sleep. They
// set client_connection_check_interval so their backend notices at once when one is ended (a
// sleeping backend would otherwise hold the slot until the sleep is over).
class connection_hog {
public:
  connection_hog(const postgres_server& postgres, int slots) : postgres_(postgres) {
    for (int i = 0; i < slots; ++i) sessions_.push_back(start_session(i));
    std::string last;
    const bool full = eventually(
        20s,
        [&] {
          for (std::size_t i = 0; i < sessions_.size(); ++i) {
            if (!sessions_[i]->running()) sessions_[i] = start_session(static_cast<int>(i));  // lost a race for a slot
          }
          for (const auto& s : sessions_) {
            if (tcp_connections_to(s->pid(), postgres_.port()) == 0) return false;
          }
          last = probe();
          return last.find("too many clients") != std::string::npos;
        },
        100ms);
    if (!full) throw std::runtime_error("could not fill every connection slot; last probe: " + last);
  }

  // Ends `count` sessions; their slots are free as soon as the backends notice.
  void release(std::size_t count) {
    for (std::size_t i = 0; i < count && !sessions_.empty(); ++i) sessions_.pop_back();
  }

private:
  std::unique_ptr<child_process> start_session(int i) {
    const auto psql = (find_postgres_bin_dir() / "psql").string();
    return std::make_unique<child_process>(child_options{
        {psql, "-X", "-q", postgres_.url(), "-c", "SELECT pg_sleep(60)"},
        minimal_env({{"PGOPTIONS", "-c client_connection_check_interval=100"}, {"PGCONNECT_TIMEOUT", "5"}}),
        dir_.path(), dir_.path(), "hog-" + std::to_string(i), {}});
  }

  // What a fresh connection gets: the error text, or "" when it got in.
  std::string probe() const {
    const auto psql = (find_postgres_bin_dir() / "psql").string();
    const auto result = run_command(child_options{{psql, "-X", "-q", postgres_.url(), "-c", "SELECT 1"},
                                                  minimal_env({{"PGCONNECT_TIMEOUT", "5"}}), dir_.path(),
                                                  dir_.path(), "probe", {}},
                                    15s);
    return result.status.success() ? "" : result.stderr_text;
  }

  const postgres_server& postgres_;
  temp_dir dir_{"dockerflow-hog"};
  std::vector<std::unique_ptr<child_process>> sessions_;
};

TEST(FaultsRefused, PostgresAtMaxConnections) {
  postgres_server postgres({.max_connections = 5});
  connection_hog hog(postgres, 5);
  // Started only now: its check must connect afresh, as after a restart of the service.
  app_process app({.env = app_env({{"DATABASE_URL", postgres.url()}})});

  fault_watch watch(app, "postgres at max_connections");
  watch.hold({{"postgres", "postgres.E002", "too many clients"}});
  hog.release(1);
  watch.expect_recovers(10s);
  watch.expect_lbheartbeat_unaffected();
}

// The server asks for a password (scram-sha-256); the fault is removed by trusting TCP clients.
void expect_password_fault(const std::string& fault, const std::optional<std::string>& app_password,
                           const expected_failure& expected) {
  postgres_server postgres({.password = "the-servers-password"});
  const auto credentials = postgres.options().user + (app_password ? ":" + *app_password : "");
  app_process app({.env = app_env({{"DATABASE_URL", "postgresql://" + credentials + "@127.0.0.1:" +
                                                        std::to_string(postgres.port()) + "/" +
                                                        postgres.options().database}})});
  fault_watch watch(app, fault);
  watch.hold({expected});
  postgres.set_host_auth("trust");
  watch.expect_recovers(10s);
  watch.expect_lbheartbeat_unaffected();
}

// With no password in DATABASE_URL, libpq answers the server's password request itself with
// "fe_sendauth: no password supplied", which carries no "FATAL:". Postgres was reached and asked for
// credentials the service lacks: E002, as for a wrong password below (it used to say E001).
TEST(FaultsRefused, PostgresDemandingAPasswordTheServiceLacks) {
  expect_password_fault("postgres demands a password the service lacks", std::nullopt,
                        {"postgres", "postgres.E002", "password"});
}

TEST(FaultsRefused, PostgresRefusingThePasswordTheServiceHas) {
  expect_password_fault("postgres refuses the service's password", "not-the-password",
                        {"postgres", "postgres.E002", "password authentication failed"});
}

TEST(FaultsRefused, RedisRequiringAuthTheServiceLacks) {
  redis_server redis({.password = "a-password-the-app-lacks"});
  app_process app({.env = app_env({{"REDIS_URL", redis_url_without_password(redis)}})});

  fault_watch watch(app, "redis requires AUTH the service lacks");
  watch.hold({{"redis", "redis.E002", "NOAUTH"}});
  // The operator drops the password requirement at run time: no restart of either process.
  const auto result = run_command(
      child_options{{"redis-cli", "-h", "127.0.0.1", "-p", std::to_string(redis.port()), "--no-auth-warning", "-a",
                     "a-password-the-app-lacks", "CONFIG", "SET", "requirepass", ""},
                    minimal_env(), app.dir().path(), app.dir().path(), "redis-cli", {}},
      10s);
  ASSERT_TRUE(result.status.success()) << result.stderr_text;
  ASSERT_NE(result.stdout_text.find("OK"), std::string::npos) << result.stdout_text;
  watch.expect_recovers(10s);
  watch.expect_lbheartbeat_unaffected();
}

TEST(FaultsRefused, RedisAnsweringPingWithAnError) {
  redis_server redis({.extra_args = {"--rename-command", "PING", ""}});
  app_process app({.env = app_env({{"REDIS_URL", redis.url()}})});

  fault_watch watch(app, "redis answers PING with an error (rename-command PING \"\")");
  watch.hold({{"redis", "redis.E002", "unknown command"}});
  // Fixed configuration, restarted on the same port; the service is not restarted.
  const auto port = redis.port();
  redis.set_options({});
  redis.restart();
  ASSERT_EQ(redis.port(), port);
  watch.expect_recovers(10s);
  watch.expect_lbheartbeat_unaffected();
}

// ---------------------------------------------------------------------------------------------
// Bad names and addresses

// The app and PostgreSQL run in a network namespace of their own whose resolv.conf names
// 127.0.0.53, where nothing answers. The namespace has no interface but its own loopback and no
// route, so the DNS query for the name cannot leave the machine: it goes to that loopback address
// and nowhere else (asserted below by listing the interfaces).
TEST(FaultsNames, DatabaseHostThatDoesNotResolve) {
  if (!network_namespace::supported()) {
    if (std::getenv("CI") != nullptr) FAIL() << "needs root and ip(8) for a network namespace";
    GTEST_SKIP() << "needs root and ip(8) for a network namespace";
  }
  const std::string hosts = "127.0.0.1 localhost\n::1 localhost\n";
  network_namespace ns({{"resolv.conf", "nameserver 127.0.0.53\noptions timeout:1 attempts:1\n"}, {"hosts", hosts}});
  // This thread, and so every process and socket it makes from here on, is inside.
  network_namespace_entry inside(ns);
  ASSERT_EQ(network_interfaces(), std::vector<std::string>{"lo"}) << "the namespace must have loopback only";

  postgres_server postgres;
  const std::string host = "db.does-not-resolve.invalid";
  // `ip netns exec` mounts the namespace's resolv.conf and hosts over /etc's for the app only.
  app_process app({.env = app_env({{"DATABASE_URL", "postgresql://" + postgres.options().user + "@" + host + ":" +
                                                        std::to_string(postgres.port()) + "/" +
                                                        postgres.options().database}}),
                   .wrapper = ns.exec_prefix()});

  fault_watch watch(app, "DATABASE_URL host does not resolve");
  watch.hold({{"postgres", "postgres.E001", host}});
  // The name appears (a DNS record added): the next probe resolves it, with the app untouched.
  ns.write_etc_file("hosts", hosts + "127.0.0.1 " + host + "\n");
  watch.expect_recovers(10s);
  watch.expect_lbheartbeat_unaffected();
}

TEST(FaultsNames, NothingListensOnTheDependencyPorts) {
  postgres_server postgres;
  redis_server redis;
  postgres.stop();
  redis.stop();
  ASSERT_TRUE(connection_refused(postgres.port()));
  ASSERT_TRUE(connection_refused(redis.port()));
  app_process app({.env = app_env({{"DATABASE_URL", postgres.url()}, {"REDIS_URL", redis.url()}})});

  fault_watch watch(app, "nothing listens on the dependency ports");
  const auto start = test_clock::now();
  watch.expect_reported({{"postgres", "postgres.E001", "refused"}, {"redis", "redis.E001", "refused"}});
  // A refusal is known at once: no reason to wait for the deadline.
  EXPECT_LT(since(start), check_timeout / 2);
  watch.hold({{"postgres", "postgres.E001", "refused"}, {"redis", "redis.E001", "refused"}});
  postgres.start();
  redis.start();
  watch.expect_recovers(10s);
  watch.expect_lbheartbeat_unaffected();
}

} // namespace
} // namespace dockerflow::test
