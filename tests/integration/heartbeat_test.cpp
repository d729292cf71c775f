// /__heartbeat__ against real PostgreSQL and Redis processes, with outages made by stopping,
// restarting and freezing (SIGSTOP) those processes.
#include "support/app_process.hpp"
#include "support/eventually.hpp"
#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/postgres_server.hpp"
#include "support/process_inspection.hpp"
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto check_timeout = 1000ms;
// The answer may take the deadline plus a little for the app's own work, never more.
constexpr auto answer_bound = check_timeout + 500ms;
// An lbheartbeat never waits for a dependency; on a loaded 2-core machine 100 ms is still ample.
constexpr auto lbheartbeat_bound = 100ms;

struct timed_response {
  http_response response;
  std::chrono::milliseconds elapsed;
};

timed_response timed_request(std::uint16_t port, const std::string& method, const std::string& target) {
  auto start = test_clock::now();
  auto response = http_request(port, method, target, {}, 10s);
  return {response, std::chrono::duration_cast<std::chrono::milliseconds>(test_clock::now() - start)};
}

timed_response timed_get(std::uint16_t port, const std::string& target) {
  return timed_request(port, "GET", target);
}

void expect_check_ok(const json& body, const std::string& name) {
  SCOPED_TRACE(name + " in " + body.dump());
  EXPECT_EQ(body["checks"][name], "ok");
  const auto& details = body["details"][name];
  EXPECT_EQ(details["status"], "ok");
  EXPECT_EQ(details["level"], 0);
  EXPECT_TRUE(details["messages"].is_object());
  EXPECT_TRUE(details["messages"].empty());
  ASSERT_TRUE(details["duration_ms"].is_number());
  EXPECT_GE(details["duration_ms"].get<double>(), 0);
}

void expect_check_error(const json& body, const std::string& name) {
  SCOPED_TRACE(name + " in " + body.dump());
  EXPECT_EQ(body["checks"][name], "error");
  const auto& details = body["details"][name];
  EXPECT_EQ(details["status"], "error");
  EXPECT_EQ(details["level"], 40);
  ASSERT_TRUE(details["messages"].is_object());
  EXPECT_FALSE(details["messages"].empty());
  for (const auto& [id, text] : details["messages"].items()) {
    EXPECT_EQ(id.rfind(name + ".", 0), 0u) << "message id " << id;
    EXPECT_TRUE(text.is_string());
  }
  EXPECT_TRUE(details["duration_ms"].is_number());
}

class Heartbeat : public ::testing::Test {
protected:
  void SetUp() override {
    postgres_ = std::make_unique<postgres_server>();
    redis_ = std::make_unique<redis_server>();
    app_ = std::make_unique<app_process>(app_options{.env = {
                                                         {"DATABASE_URL", postgres_->url()},
                                                         {"REDIS_URL", redis_->url()},
                                                         {"DOCKERFLOW_CHECK_TIMEOUT_MS", "1000"},
                                                     }});
  }

  void TearDown() override {
    // The app first, so it never sees its dependencies vanish during teardown.
    app_.reset();
    redis_.reset();
    postgres_.reset();
  }

  std::uint16_t port() const { return app_->port(); }

  // Polls until a heartbeat answers 200 with every check ok: dependencies that come back are
  // picked up by the app on its own, without a restart.
  void expect_recovers(std::chrono::milliseconds within) {
    http_response last;
    bool recovered = eventually(
        within,
        [&] {
          last = http_get(port(), "/__heartbeat__", {}, 10s);
          return last.status == 200;
        },
        100ms);
    EXPECT_TRUE(recovered) << "still failing: " << last.status << " " << last.body;
    if (recovered) {
      expect_check_ok(last.json(), "postgres");
      expect_check_ok(last.json(), "redis");
    }
  }

  // A heartbeat on its own thread while the caller checks that /__lbheartbeat__ stays fast; returns
  // the heartbeat's answer and time. Proves the event loop is not blocked by a hung dependency.
  timed_response heartbeat_while_probing_lbheartbeat() {
    std::atomic<bool> heartbeat_done{false};
    timed_response heartbeat;
    std::thread worker([&] {
      heartbeat = timed_get(port(), "/__heartbeat__");
      heartbeat_done = true;
    });
    // Give the heartbeat request a head start so it is in flight when the probes below run.
    std::this_thread::sleep_for(100ms);
    for (int i = 0; i < 5; ++i) {
      auto lb = timed_get(port(), "/__lbheartbeat__");
      EXPECT_EQ(lb.response.status, 200);
      EXPECT_LT(lb.elapsed, lbheartbeat_bound) << "lbheartbeat #" << i << " while a check hangs";
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_FALSE(heartbeat_done.load()) << "the heartbeat was expected to still wait for the hung check";
    worker.join();
    return heartbeat;
  }

  std::unique_ptr<postgres_server> postgres_;
  std::unique_ptr<redis_server> redis_;
  std::unique_ptr<app_process> app_;
};

TEST_F(Heartbeat, OkWithRealPostgresAndRedis) {
  for (int i = 0; i < 2; ++i) {
    auto response = http_get(port(), "/__heartbeat__");
    ASSERT_EQ(response.status, 200) << response.body;
    ASSERT_TRUE(response.header("Content-Type"));
    EXPECT_EQ(response.header("Content-Type")->rfind("application/json", 0), 0u);
    EXPECT_EQ(response.header("Cache-Control"), "no-store");
    auto body = response.json();
    EXPECT_EQ(body["status"], "ok");
    EXPECT_EQ(body["checks"].size(), 2u) << body.dump();
    expect_check_ok(body, "postgres");
    expect_check_ok(body, "redis");
  }
}

TEST_F(Heartbeat, HungRedisFailsWithinTheDeadlineWhileLbheartbeatStaysFast) {
  ASSERT_EQ(http_get(port(), "/__heartbeat__").status, 200);
  redis_->pause();

  auto heartbeat = heartbeat_while_probing_lbheartbeat();
  EXPECT_EQ(heartbeat.response.status, 500) << heartbeat.response.body;
  EXPECT_LT(heartbeat.elapsed, answer_bound);
  auto body = heartbeat.response.json();
  EXPECT_EQ(body["status"], "error");
  expect_check_error(body, "redis");
  expect_check_ok(body, "postgres");

  redis_->resume();
  expect_recovers(10s);
}

TEST_F(Heartbeat, HungRedisDoesNotStackThreadsOrConnections) {
  ASSERT_EQ(http_get(port(), "/__heartbeat__").status, 200);
  auto baseline_threads = thread_count(app_->pid());
  redis_->pause();

  for (int i = 0; i < 3; ++i) {
    auto heartbeat = timed_get(port(), "/__heartbeat__");
    EXPECT_EQ(heartbeat.response.status, 500) << "sequential heartbeat #" << i;
    EXPECT_LT(heartbeat.elapsed, answer_bound) << "sequential heartbeat #" << i;
  }
  std::vector<timed_response> concurrent(3);
  {
    std::vector<std::thread> clients;
    for (auto& slot : concurrent) {
      clients.emplace_back([&slot, this] { slot = timed_get(port(), "/__heartbeat__"); });
    }
    for (auto& client : clients) {
      client.join();
    }
  }
  for (const auto& heartbeat : concurrent) {
    EXPECT_EQ(heartbeat.response.status, 500) << "concurrent heartbeat";
    EXPECT_LT(heartbeat.elapsed, answer_bound) << "concurrent heartbeat";
  }

  // Six heartbeats against a frozen Redis: a probe per heartbeat would show up as six blocked
  // threads or six connections to Redis.
  EXPECT_LE(thread_count(app_->pid()), baseline_threads + 2) << "baseline " << baseline_threads;
  EXPECT_LE(tcp_connections_to(app_->pid(), redis_->port()), 2u);

  redis_->resume();
  expect_recovers(10s);
}

TEST_F(Heartbeat, StoppedRedisFailsAndRecoversWhenRestarted) {
  ASSERT_EQ(http_get(port(), "/__heartbeat__").status, 200);
  redis_->stop();
  auto heartbeat = timed_get(port(), "/__heartbeat__");
  EXPECT_EQ(heartbeat.response.status, 500);
  EXPECT_LT(heartbeat.elapsed, answer_bound);
  expect_check_error(heartbeat.response.json(), "redis");
  expect_check_ok(heartbeat.response.json(), "postgres");

  redis_->start();
  expect_recovers(10s);
}

TEST_F(Heartbeat, StoppedPostgresFailsAndRecoversWhenRestartedOnTheSamePort) {
  ASSERT_EQ(http_get(port(), "/__heartbeat__").status, 200);
  auto port_before = postgres_->port();
  postgres_->stop();
  auto heartbeat = timed_get(port(), "/__heartbeat__");
  EXPECT_EQ(heartbeat.response.status, 500);
  EXPECT_LT(heartbeat.elapsed, answer_bound);
  auto body = heartbeat.response.json();
  EXPECT_EQ(body["status"], "error");
  expect_check_error(body, "postgres");
  expect_check_ok(body, "redis");

  postgres_->start();
  ASSERT_EQ(postgres_->port(), port_before);
  expect_recovers(15s);
}

TEST_F(Heartbeat, HungPostgresFailsWithinTheDeadlineAndRecovers) {
  ASSERT_EQ(http_get(port(), "/__heartbeat__").status, 200);
  postgres_->pause();

  auto heartbeat = heartbeat_while_probing_lbheartbeat();
  EXPECT_EQ(heartbeat.response.status, 500) << heartbeat.response.body;
  EXPECT_LT(heartbeat.elapsed, answer_bound);
  expect_check_error(heartbeat.response.json(), "postgres");
  expect_check_ok(heartbeat.response.json(), "redis");

  // Repeated heartbeats while still frozen answer in time too and do not pile up connections.
  for (int i = 0; i < 3; ++i) {
    auto again = timed_get(port(), "/__heartbeat__");
    EXPECT_EQ(again.response.status, 500);
    EXPECT_LT(again.elapsed, answer_bound) << "heartbeat #" << i << " while Postgres is frozen";
  }
  EXPECT_LE(tcp_connections_to(app_->pid(), postgres_->port()), 2u);

  postgres_->resume();
  expect_recovers(10s);
}

TEST_F(Heartbeat, ChecksRunConcurrently) {
  ASSERT_EQ(http_get(port(), "/__heartbeat__").status, 200);
  postgres_->pause();
  redis_->pause();
  // Run one after the other, two hung checks would take two deadlines.
  auto heartbeat = timed_get(port(), "/__heartbeat__");
  EXPECT_EQ(heartbeat.response.status, 500);
  EXPECT_LT(heartbeat.elapsed, answer_bound);
  expect_check_error(heartbeat.response.json(), "postgres");
  expect_check_error(heartbeat.response.json(), "redis");
  postgres_->resume();
  redis_->resume();
  expect_recovers(10s);
}

TEST(HeartbeatFailureStatus, ConfiguredStatusCodeIsUsedWhenFailing) {
  // Nothing listens on this port: the check fails at once with "connection refused".
  app_process app({.env = {{"REDIS_URL", "redis://127.0.0.1:" + std::to_string(free_port()) + "/0"},
                           {"DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE", "503"},
                           {"DOCKERFLOW_CHECK_TIMEOUT_MS", "1000"}}});
  auto response = http_get(app.port(), "/__heartbeat__");
  EXPECT_EQ(response.status, 503);
  auto body = response.json();
  EXPECT_EQ(body["status"], "error");
  expect_check_error(body, "redis");
  EXPECT_EQ(http_request(app.port(), "HEAD", "/__heartbeat__").status, 503);
  // The failure is the heartbeat's alone.
  EXPECT_EQ(http_get(app.port(), "/__lbheartbeat__").status, 200);
  EXPECT_EQ(http_get(app.port(), "/__version__").status, 200);
}

TEST(HeartbeatFailureStatus, DefaultsTo500) {
  app_process app({.env = {{"DATABASE_URL", "postgresql://nobody@127.0.0.1:" + std::to_string(free_port()) + "/db"},
                           {"DOCKERFLOW_CHECK_TIMEOUT_MS", "1000"}}});
  auto response = http_get(app.port(), "/__heartbeat__");
  EXPECT_EQ(response.status, 500);
  expect_check_error(response.json(), "postgres");
}

} // namespace
} // namespace dockerflow::test
