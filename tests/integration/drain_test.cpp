// The way out behind a load balancer: SIGTERM starts a drain (lbheartbeat 503, Connection: close,
// listener still open), then the app stops accepting, finishes what is in flight and exits 0. No mix
// of signals, waiting heartbeats and hung dependencies may end it by a signal of its own.
#include "support/app_process.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/log_reader.hpp"
#include "support/redis_server.hpp"
#include "support/tcp_connection.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

std::chrono::milliseconds since(test_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(test_clock::now() - start);
}

std::vector<nlohmann::json> log_entries(const app_process& app, std::string_view type) {
  return parse_log(app.stdout_lines()).of_type(type);
}

// The app has seen the signal once its drain is logged (kill() returns before the target acts).
void wait_for_drain(const app_process& app) {
  ASSERT_TRUE(eventually(2s, [&] { return !log_entries(app, "server.draining").empty(); }))
      << "no server.draining line\n" << app.stdout_text();
}

void expect_clean_exit(app_process& app, std::chrono::milliseconds within) {
  const auto status = app.wait_for_exit(within);
  ASSERT_TRUE(status) << "still running after " << within.count() << " ms";
  EXPECT_TRUE(status->success()) << status->describe() << "\nstderr: " << app.stderr_text();
}

TEST(Drain, LbHeartbeatAnswers503WhileOtherRoutesServeNewConnections) {
  app_process app({.env = {{"DOCKERFLOW_DRAIN_SECONDS", "2"}}});
  ASSERT_EQ(http_get(app.port(), "/__lbheartbeat__").status, 200);
  const auto signalled = test_clock::now();
  app.process().send_signal(SIGTERM);
  wait_for_drain(app);

  const auto probe = http_get(app.port(), "/__lbheartbeat__");
  EXPECT_EQ(probe.status, 503);
  EXPECT_EQ(probe.body, "");
  EXPECT_EQ(probe.header("Connection"), "close");
  for (int i = 0; i < 5; ++i) {  // each on a new connection: the listener stays open
    const auto version = http_get(app.port(), "/__version__");
    EXPECT_EQ(version.status, 200);
    EXPECT_EQ(version.body, app_process::version_json);
    EXPECT_EQ(version.header("Connection"), "close");
  }
  EXPECT_EQ(http_get(app.port(), "/__heartbeat__").status, 200);
  EXPECT_EQ(http_get(app.port(), "/nope").status, 404);

  expect_clean_exit(app, 5s);
  EXPECT_GE(since(signalled), 2s) << "stopped before the drain was over";
  EXPECT_LT(since(signalled), 3500ms);
  EXPECT_TRUE(connection_refused(app.port()));
  const auto log = parse_log(app.stdout_lines());
  ASSERT_EQ(log.of_type("server.draining").size(), 1u);
  EXPECT_EQ(log.of_type("server.draining")[0]["Fields"]["signal"], SIGTERM);
  EXPECT_EQ(log.of_type("server.draining")[0]["Fields"]["drain_seconds"], 2);
  EXPECT_EQ(log.of_type("server.stopping").size(), 1u);
  EXPECT_EQ(log.of_type("server.stopped").size(), 1u);
}

TEST(Drain, IdleKeepAliveConnectionsAreClosedAtItsStart) {
  app_process app({.env = {{"DOCKERFLOW_DRAIN_SECONDS", "3"}}});
  std::vector<std::unique_ptr<http_connection>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<http_connection>(app.port()));
    idle.back()->send(make_request("GET", "/__version__"));
    const auto response = idle.back()->read_response();
    ASSERT_EQ(response.status, 200);
    EXPECT_FALSE(response.header("Connection").has_value()) << "kept alive before the drain";
  }
  app.process().send_signal(SIGTERM);
  for (auto& c : idle) EXPECT_TRUE(c->wait_closed(1s)) << "an idle keep-alive connection stayed open";
  // Long before the drain ends, and while the listener still accepts.
  EXPECT_EQ(http_get(app.port(), "/__version__").status, 200);
  expect_clean_exit(app, 6s);
}

TEST(Drain, ARequestOnANewConnectionDuringTheDrainIsAnsweredThenClosed) {
  app_process app({.env = {{"DOCKERFLOW_DRAIN_SECONDS", "2"}}});
  app.process().send_signal(SIGTERM);
  wait_for_drain(app);
  http_connection c(app.port());
  c.send(make_request("GET", "/__version__", {{"X-Request-ID", "during-drain"}}));
  const auto response = c.read_response();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.header("Connection"), "close");
  EXPECT_EQ(response.header("X-Request-ID"), "during-drain");
  EXPECT_TRUE(c.wait_closed(1s));
  expect_clean_exit(app, 5s);
}

TEST(Drain, AHeartbeatInFlightWhenTheDrainEndsIsAnswered) {
  redis_server redis;
  app_process app({.env = {{"REDIS_URL", redis.url()},
                           {"DOCKERFLOW_CHECK_TIMEOUT_MS", "1500"},
                           {"DOCKERFLOW_DRAIN_SECONDS", "1"}}});
  ASSERT_EQ(http_get(app.port(), "/__heartbeat__").status, 200);
  redis.pause();
  app.process().send_signal(SIGTERM);
  wait_for_drain(app);
  // Sent during the drain, still waiting on frozen Redis when the drain ends after 1 s.
  http_connection waiting(app.port());
  const auto sent = test_clock::now();
  waiting.send(make_request("GET", "/__heartbeat__", {{"X-Request-ID", "hung"}}));
  const auto response = waiting.read_response(false, 5s);
  EXPECT_LT(since(sent), 2500ms);
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.json()["checks"]["redis"], "error");
  EXPECT_EQ(response.header("Connection"), "close");
  expect_clean_exit(app, 5s);
  redis.resume();
}

TEST(Drain, ZeroStopsAcceptingAtOnce) {
  app_process app({.env = {{"DOCKERFLOW_DRAIN_SECONDS", "0"}}});
  const auto signalled = test_clock::now();
  app.process().send_signal(SIGTERM);
  expect_clean_exit(app, 5s);
  EXPECT_LT(since(signalled), 1s);
}

TEST(Drain, ASecondSignalExitsAtOnceWithZero) {
  for (const int second : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(second == SIGTERM ? "second SIGTERM" : "second SIGINT");
    app_process app({.env = {{"DOCKERFLOW_DRAIN_SECONDS", "30"}}});
    app.process().send_signal(SIGTERM);
    wait_for_drain(app);
    const auto signalled = test_clock::now();
    app.process().send_signal(second);
    expect_clean_exit(app, 3s);
    EXPECT_LT(since(signalled), 1s);
    EXPECT_EQ(log_entries(app, "server.interrupted").size(), 1u) << app.stdout_text();
  }
}

// Three heartbeats wait on a frozen Redis with a check deadline longer than any stop limit.
struct hung_heartbeats {
  explicit hung_heartbeats(app_process& app) {
    for (int i = 0; i < 3; ++i) {
      waiting.push_back(std::make_unique<http_connection>(app.port()));
      waiting.back()->send(make_request("GET", "/__heartbeat__"));
    }
    std::this_thread::sleep_for(300ms);  // let the app read them and start waiting
  }
  std::vector<std::unique_ptr<http_connection>> waiting;
};

// The reported crash: SIGTERM twice 200 ms apart while heartbeats wait on a SIGSTOPped Redis
// ended the process with SIGSEGV (the server's connection list was freed before the io_context
// destroyed the suspended sessions that erase themselves from it).
TEST(Drain, TwoSignalsWhileHeartbeatsWaitOnAHungRedisExitZero) {
  for (const char* drain : {"0", "5"}) {
    SCOPED_TRACE(std::string("DOCKERFLOW_DRAIN_SECONDS=") + drain);
    redis_server redis;
    app_process app({.env = {{"REDIS_URL", redis.url()},
                             {"DOCKERFLOW_CHECK_TIMEOUT_MS", "12000"},
                             {"DOCKERFLOW_DRAIN_SECONDS", drain}}});
    ASSERT_EQ(http_get(app.port(), "/__heartbeat__").status, 200);
    redis.pause();
    hung_heartbeats heartbeats(app);
    app.process().send_signal(SIGTERM);
    std::this_thread::sleep_for(200ms);
    app.process().send_signal(SIGTERM);
    expect_clean_exit(app, 3s);
    redis.resume();
  }
}

// One SIGTERM while heartbeats wait: they are answered at their own deadline, then the app exits 0.
TEST(Drain, OneSignalWhileHeartbeatsWaitOnAHungRedisAnswersThemAndExitsZero) {
  redis_server redis;
  app_process app({.env = {{"REDIS_URL", redis.url()},
                           {"DOCKERFLOW_CHECK_TIMEOUT_MS", "3000"},
                           {"DOCKERFLOW_DRAIN_SECONDS", "0"}}});
  ASSERT_EQ(http_get(app.port(), "/__heartbeat__").status, 200);
  redis.pause();
  hung_heartbeats heartbeats(app);
  app.process().send_signal(SIGTERM);
  for (auto& c : heartbeats.waiting) {
    const auto response = c->read_response(false, 6s);
    EXPECT_EQ(response.status, 500);
    EXPECT_EQ(response.header("Connection"), "close");
  }
  expect_clean_exit(app, 3s);
  redis.resume();
}

// The app holds SIGTERM pending from its first instruction until its signal set exists. Starting it
// with SIGTERM blocked models that window deterministically: the signal sent right after fork, long
// before the listener is up, must still start the drain once the app is ready for it.
TEST(Drain, ASignalDuringStartUpIsNotLost) {
  app_process app({.env = {{"DOCKERFLOW_DRAIN_SECONDS", "1"}}, .wait_until_ready = false, .blocked_signals = {SIGTERM}});
  app.process().send_signal(SIGTERM);
  expect_clean_exit(app, 5s);
  const auto log = parse_log(app.stdout_lines());
  EXPECT_EQ(log.of_type("server.listening").size(), 1u);
  EXPECT_EQ(log.of_type("server.draining").size(), 1u) << app.stdout_text();
}

TEST(Drain, WarnsAtStartUpWhenDrainPlusCheckTimeoutExceedsNineSeconds) {
  app_process slow({.env = {{"DOCKERFLOW_DRAIN_SECONDS", "8"}, {"DOCKERFLOW_CHECK_TIMEOUT_MS", "1500"}}});
  ASSERT_TRUE(eventually(2s, [&] { return !log_entries(slow, "server.stop_budget").empty(); })) << slow.stdout_text();
  const auto warning = log_entries(slow, "server.stop_budget")[0];
  EXPECT_EQ(warning["Severity"], 4);
  EXPECT_EQ(warning["Fields"]["drain_seconds"], 8);
  EXPECT_EQ(warning["Fields"]["check_timeout_ms"], 1500);
  EXPECT_EQ(http_get(slow.port(), "/__lbheartbeat__").status, 200) << "a warning, not a refusal to start";

  app_process fits({.env = {{"DOCKERFLOW_DRAIN_SECONDS", "5"}, {"DOCKERFLOW_CHECK_TIMEOUT_MS", "2000"}}});
  ASSERT_TRUE(eventually(2s, [&] { return !log_entries(fits, "server.listening").empty(); }));
  EXPECT_TRUE(log_entries(fits, "server.stop_budget").empty());
}

}  // namespace
}  // namespace dockerflow::test
