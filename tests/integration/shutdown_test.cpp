// SIGTERM and SIGINT: stop accepting, finish what is in flight, exit 0 well within Docker's 10 s.
#include "support/app_process.hpp"
#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/process_inspection.hpp"
#include "support/redis_server.hpp"
#include "support/tcp_connection.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <string>
#include <thread>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

// Signals the app and waits for its exit; returns how long that took.
std::chrono::milliseconds signal_and_wait(app_process& app, int sig, std::optional<exit_status>& status) {
  auto start = test_clock::now();
  app.process().send_signal(sig);
  status = app.wait_for_exit(10s);
  return std::chrono::duration_cast<std::chrono::milliseconds>(test_clock::now() - start);
}

TEST(Shutdown, SigtermWhenIdleExitsZeroAndReleasesThePort) {
  app_process app;
  ASSERT_EQ(http_get(app.port(), "/__lbheartbeat__").status, 200);
  std::optional<exit_status> status;
  auto took = signal_and_wait(app, SIGTERM, status);
  ASSERT_TRUE(status) << "still running 10 s after SIGTERM";
  EXPECT_TRUE(status->success()) << status->describe() << "\n" << app.stderr_text();
  EXPECT_LT(took, 10s);
  EXPECT_TRUE(connection_refused(app.port()));
}

TEST(Shutdown, SigintExitsZero) {
  app_process app;
  std::optional<exit_status> status;
  signal_and_wait(app, SIGINT, status);
  ASSERT_TRUE(status) << "still running 10 s after SIGINT";
  EXPECT_TRUE(status->success()) << status->describe();
}

TEST(Shutdown, IdleKeepAliveConnectionDoesNotDelayExit) {
  app_process app;
  http_connection idle(app.port());
  idle.send(make_request("GET", "/__lbheartbeat__"));
  ASSERT_EQ(idle.read_response().status, 200);
  // The connection stays open and idle; its 75 s keep-alive timeout must not hold up shutdown.
  std::optional<exit_status> status;
  auto took = signal_and_wait(app, SIGTERM, status);
  ASSERT_TRUE(status) << "an idle keep-alive connection kept the app alive past 10 s\n"
                       << app.stdout_text() << app.stderr_text();
  EXPECT_TRUE(status->success()) << status->describe();
  EXPECT_LT(took, 10s);
  EXPECT_TRUE(idle.wait_closed(1s));
}

TEST(Shutdown, InFlightHeartbeatIsAnsweredBeforeExit) {
  redis_server redis;
  app_process app({.env = {{"REDIS_URL", redis.url()}, {"DOCKERFLOW_CHECK_TIMEOUT_MS", "1000"}}});
  ASSERT_EQ(http_get(app.port(), "/__heartbeat__").status, 200);
  redis.pause();

  http_connection in_flight(app.port());
  auto sent = test_clock::now();
  in_flight.send(make_request("GET", "/__heartbeat__", {{"X-Request-ID", "in-flight"}}));
  // Let the server read the request; it then waits on frozen Redis until the deadline.
  std::this_thread::sleep_for(200ms);
  app.process().send_signal(SIGTERM);

  auto response = in_flight.read_response(false, 5s);
  EXPECT_LT(test_clock::now() - sent, 1500ms);
  EXPECT_EQ(response.header("X-Request-ID"), "in-flight");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.json()["checks"]["redis"], "error");

  auto status = app.wait_for_exit(10s);
  ASSERT_TRUE(status) << "still running 10 s after SIGTERM";
  EXPECT_TRUE(status->success()) << status->describe() << "\n" << app.stderr_text();
}

// The stop signals are read from a signalfd, so they must wait in the kernel: a thread that left them
// unblocked would take them to the default action (exit) and skip the drain. Every kind of thread
// runs here: loop threads, the log writer, the statsd sender and the check runners.
TEST(Shutdown, StopSignalsAreBlockedInEveryThreadAndCaughtByNone) {
  redis_server redis;
  app_process app({.env = {{"REDIS_URL", redis.url()},
                           {"DOCKERFLOW_THREADS", "2"},
                           {"STATSD_HOST", "127.0.0.1"},
                           {"STATSD_PORT", std::to_string(free_port())}}});
  ASSERT_EQ(http_get(app.port(), "/__heartbeat__", {}, 10s).status, 200);
  const auto threads = signal_masks_of_threads(app.pid());
  for (const auto& thread : threads) {
    EXPECT_TRUE(thread.blocks(SIGTERM)) << "thread " << thread.tid;
    EXPECT_TRUE(thread.blocks(SIGINT)) << "thread " << thread.tid;
    // A handler would take the signal before the signalfd could read it.
    EXPECT_FALSE(thread.catches(SIGTERM)) << "thread " << thread.tid;
  }
  EXPECT_GE(threads.size(), 4u) << "main, loop-1, log writer, statsd sender at least";
  std::optional<exit_status> status;
  signal_and_wait(app, SIGTERM, status);
  ASSERT_TRUE(status) << "still running 10 s after SIGTERM";
  EXPECT_TRUE(status->success()) << status->describe();
}

} // namespace
} // namespace dockerflow::test
