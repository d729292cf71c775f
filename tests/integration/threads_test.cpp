// DOCKERFLOW_THREADS: several event-loop threads share one io_context; the heartbeat, the drain and
// the connection registry stay correct across them. The default follows the CPUs the process may use.
#include "support/app_process.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/log_reader.hpp"
#include "support/postgres_server.hpp"
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

#include <sched.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

std::size_t loop_threads(pid_t pid) {
  std::size_t count = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::string name;
    std::getline(std::ifstream(task.path() / "comm"), name);
    if (name.starts_with("loop-")) ++count;
  }
  return count;
}

nlohmann::json listening_fields(const app_process& app) {
  nlohmann::json fields;
  eventually(2s, [&] {
    const auto entries = parse_log(app.stdout_lines()).of_type("server.listening");
    if (!entries.empty()) fields = entries[0]["Fields"];
    return !entries.empty();
  });
  return fields;
}

// `clients` threads each send `requests` GETs of `target` on fresh connections; returns the statuses.
std::vector<int> flood(std::uint16_t port, const std::string& target, int clients, int requests) {
  std::vector<int> statuses;
  std::mutex mutex;
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      for (int i = 0; i < requests; ++i) {
        int status = 0;
        try {
          status = http_get(port, target, {}, 10s).status;
        } catch (const std::exception&) {
          status = -1;
        }
        const std::lock_guard lock(mutex);
        statuses.push_back(status);
      }
    });
  for (auto& t : threads) t.join();
  return statuses;
}

TEST(Threads, AnExplicitCountStartsThatManyLoops) {
  app_process app({.env = {{"DOCKERFLOW_THREADS", "3"}}});
  EXPECT_EQ(listening_fields(app)["threads"], 3);
  // The loop threads start (and name themselves) just after server.listening is logged.
  EXPECT_TRUE(eventually(2s, [&] { return loop_threads(app.pid()) == 2; })) << "the main thread is the third loop";

  const auto statuses = flood(app.port(), "/__version__", 8, 40);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 320);

  // Request ids come from one generator shared by the loops: never repeated. Each line is written
  // just after its answer, so the last ones may still be on their way.
  std::vector<nlohmann::json> summaries;
  ASSERT_TRUE(eventually(3s, [&] {
    summaries = parse_log(app.stdout_lines()).of_type("request.summary");
    return summaries.size() >= 320;
  })) << summaries.size() << " request.summary lines";
  std::set<std::string> ids;
  for (const auto& entry : summaries) ids.insert(entry["Fields"]["rid"].get<std::string>());
  EXPECT_EQ(ids.size(), 320u);
}

TEST(Threads, TheDefaultFollowsTheCpuAffinity) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &saved)) {
      CPU_SET(cpu, &one);
      break;
    }
  // The child inherits the affinity of the thread that forks it, as under `taskset -c 0`.
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  std::unique_ptr<app_process> pinned;
  try {
    pinned = std::make_unique<app_process>();
  } catch (...) {
    sched_setaffinity(0, sizeof(saved), &saved);
    throw;
  }
  sched_setaffinity(0, sizeof(saved), &saved);
  EXPECT_EQ(listening_fields(*pinned)["threads"], 1);
  std::this_thread::sleep_for(200ms);  // time enough for a wrongly started loop thread to show
  EXPECT_EQ(loop_threads(pinned->pid()), 0u);

  app_process unpinned;
  const auto threads = listening_fields(unpinned)["threads"].get<int>();
  EXPECT_GE(threads, 1);
  EXPECT_LE(threads, CPU_COUNT(&saved));
}

TEST(Threads, HeartbeatFloodAcrossLoopsAgainstRealPostgresAndRedis) {
  postgres_server postgres;
  redis_server redis;
  app_process app({.env = {{"DATABASE_URL", postgres.url()}, {"REDIS_URL", redis.url()}, {"DOCKERFLOW_THREADS", "4"}}});
  const auto statuses = flood(app.port(), "/__heartbeat__", 16, 20);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 320);
  const auto body = http_get(app.port(), "/__heartbeat__").json();
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["checks"]["postgres"], "ok");
  EXPECT_EQ(body["checks"]["redis"], "ok");
}

TEST(Threads, DrainAndStopAcrossLoops) {
  redis_server redis;
  app_process app({.env = {{"REDIS_URL", redis.url()},
                           {"DOCKERFLOW_THREADS", "4"},
                           {"DOCKERFLOW_DRAIN_SECONDS", "2"},
                           {"DOCKERFLOW_CHECK_TIMEOUT_MS", "1000"}}});
  std::vector<std::unique_ptr<http_connection>> idle;
  for (int i = 0; i < 16; ++i) {
    idle.push_back(std::make_unique<http_connection>(app.port()));
    idle.back()->send(make_request("GET", "/__version__"));
    ASSERT_EQ(idle.back()->read_response().status, 200);
  }
  // Load on every loop while the signal arrives.
  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> load;
  for (int c = 0; c < 4; ++c)
    load.emplace_back([&] {
      while (!done) {
        try {
          if (http_get(app.port(), "/__heartbeat__", {}, 5s).status != 200) ++failures;
        } catch (const std::exception&) {
          ++failures;
        }
      }
    });
  std::this_thread::sleep_for(200ms);
  app.process().send_signal(SIGTERM);
  for (auto& c : idle) EXPECT_TRUE(c->wait_closed(1s));
  std::this_thread::sleep_for(1s);  // well inside the drain
  done = true;
  for (auto& t : load) t.join();
  EXPECT_EQ(failures, 0) << "requests failed during the drain";
  EXPECT_EQ(http_get(app.port(), "/__lbheartbeat__").status, 503);
  const auto status = app.wait_for_exit(5s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->success()) << status->describe() << "\n" << app.stderr_text();
}

}  // namespace
}  // namespace dockerflow::test
