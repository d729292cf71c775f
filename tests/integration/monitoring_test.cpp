// /__heartbeat__ for monitoring that polls as hard as it likes, against real PostgreSQL and Redis:
// probe load bounded by the result cache, failure tolerance, check selection, private details,
// status-change logs, probe log volume, slow-check warnings and /__error__.
#include "support/app_process.hpp"
#include "support/eventually.hpp"
#include "support/http_client.hpp"
#include "support/log_reader.hpp"
#include "support/postgres_server.hpp"
#include "support/redis_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::chrono::milliseconds since(test_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(test_clock::now() - start);
}

std::vector<json> of_type(const app_process& app, std::string_view type) {
  return parse_log(app.stdout_lines()).of_type(type);
}

// `clients` threads share `total` GETs of `target`, each on a fresh connection; returns how many got 200.
int flood(std::uint16_t port, const std::string& target, int clients, int total) {
  std::atomic<int> next{0}, ok{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      while (next++ < total) {
        try {
          if (http_get(port, target, {}, 10s).status == 200) ++ok;
        } catch (const std::exception&) {
        }
      }
    });
  for (auto& t : threads) t.join();
  return ok;
}

TEST(Monitoring, A2000HeartbeatFloodCostsEachDependencyAboutOneProbePerCachePeriod) {
  postgres_server postgres({.log_statements = true});
  redis_server redis;
  // The defaults, as a deployment has them: a 1 s cache.
  app_process app({.env = {{"DATABASE_URL", postgres.url()}, {"REDIS_URL", redis.url()}, {"LOG_LEVEL", "warning"},
                           {"DOCKERFLOW_HEARTBEAT_CACHE_MS", "1000"}}});
  // Connected once (a first probe also connects and selects), then the cached result let expire.
  ASSERT_EQ(http_get(app.port(), "/__heartbeat__").status, 200);
  std::this_thread::sleep_for(1100ms);
  const auto statements_before = postgres.statements_logged("SELECT 1");
  const auto pings_before = redis.command_calls("ping");
  const auto commands_before = std::stoull(redis.info_field("stats", "total_commands_processed"));

  const auto started = test_clock::now();
  const int ok = flood(app.port(), "/__heartbeat__", 32, 2000);
  const auto took = since(started);

  // Give the last logged statement time to reach the log file.
  std::this_thread::sleep_for(200ms);
  const auto statements = postgres.statements_logged("SELECT 1") - statements_before;
  const auto pings = redis.command_calls("ping") - pings_before;
  // Two of the counted commands are this test's: the INFO stats that read the first value and the
  // INFO commandstats that read the PINGs.
  const auto commands = std::stoull(redis.info_field("stats", "total_commands_processed")) - commands_before - 2;
  std::cout << "2000 heartbeats from 32 clients in " << took.count() << " ms: " << statements
            << " Postgres statements (SELECT 1), " << pings << " Redis PINGs, " << commands
            << " Redis commands in all\n";
  RecordProperty("flood_ms", static_cast<int>(took.count()));
  RecordProperty("postgres_statements", static_cast<int>(statements));
  RecordProperty("redis_commands", static_cast<int>(commands));

  EXPECT_EQ(ok, 2000);
  // The cache is 1 s: one probe per started second, plus the first.
  const auto bound = static_cast<std::size_t>(std::ceil(static_cast<double>(took.count()) / 1000.0)) + 1;
  EXPECT_GE(statements, 1u);
  EXPECT_LE(statements, bound) << "Postgres probes in " << took.count() << " ms";
  EXPECT_GE(pings, 1u);
  EXPECT_LE(pings, bound) << "Redis probes in " << took.count() << " ms";
  EXPECT_LE(commands, bound) << "no command other than PING per probe";
}

TEST(Monitoring, CachedResultsCarryTheirAgeAndZeroCacheProbesEveryTime) {
  redis_server redis;
  {
    app_process app({.env = {{"REDIS_URL", redis.url()}, {"DOCKERFLOW_HEARTBEAT_CACHE_MS", "1000"}}});
    const auto first = http_get(app.port(), "/__heartbeat__").json();
    EXPECT_EQ(first["details"]["redis"]["age_ms"], 0);
    std::this_thread::sleep_for(300ms);
    const auto pings = redis.command_calls("ping");
    const auto second = http_get(app.port(), "/__heartbeat__").json();
    EXPECT_GE(second["details"]["redis"]["age_ms"].get<int>(), 250) << second.dump();
    EXPECT_LT(second["details"]["redis"]["age_ms"].get<int>(), 1000) << second.dump();
    EXPECT_EQ(redis.command_calls("ping"), pings) << "served from the cache";
  }
  app_process uncached({.env = {{"REDIS_URL", redis.url()}, {"DOCKERFLOW_HEARTBEAT_CACHE_MS", "0"}}});
  ASSERT_EQ(http_get(uncached.port(), "/__heartbeat__").status, 200);
  const auto pings = redis.command_calls("ping");
  for (int i = 0; i < 3; ++i) {
    const auto body = http_get(uncached.port(), "/__heartbeat__").json();
    EXPECT_EQ(body["details"]["redis"]["age_ms"], 0);
  }
  EXPECT_EQ(redis.command_calls("ping"), pings + 3) << "without a cache every heartbeat probes";
}

TEST(Monitoring, FailuresAreWarningsUntilTheToleranceIsReached) {
  redis_server redis;
  app_process app({.env = {{"REDIS_URL", redis.url()},
                           {"DOCKERFLOW_HEARTBEAT_CACHE_MS", "0"},
                           {"DOCKERFLOW_CHECK_FAILURES_BEFORE_ERROR", "3"}}});
  ASSERT_EQ(http_get(app.port(), "/__heartbeat__").status, 200);
  redis.stop();
  for (int i = 1; i <= 2; ++i) {
    const auto r = http_get(app.port(), "/__heartbeat__");
    EXPECT_EQ(r.status, 200) << "failure " << i << ": " << r.body;
    EXPECT_EQ(r.json()["checks"]["redis"], "warning");
    EXPECT_TRUE(r.json()["details"]["redis"]["messages"].contains("redis.E001")) << "messages kept: " << r.body;
  }
  const auto third = http_get(app.port(), "/__heartbeat__");
  EXPECT_EQ(third.status, 500) << third.body;
  EXPECT_EQ(third.json()["checks"]["redis"], "error");

  redis.start();
  ASSERT_TRUE(eventually(5s, [&] { return http_get(app.port(), "/__heartbeat__").status == 200; }));
  EXPECT_EQ(http_get(app.port(), "/__heartbeat__").json()["checks"]["redis"], "ok");
  redis.stop();
  const auto after_reset = http_get(app.port(), "/__heartbeat__");
  EXPECT_EQ(after_reset.status, 200) << "one success reset the count: " << after_reset.body;
  EXPECT_EQ(after_reset.json()["checks"]["redis"], "warning");
}

TEST(Monitoring, ExcludeLeavesAHungCheckOutAndAnswersAtOnce) {
  postgres_server postgres;
  redis_server redis;
  app_process app({.env = {{"DATABASE_URL", postgres.url()},
                           {"REDIS_URL", redis.url()},
                           {"DOCKERFLOW_CHECK_TIMEOUT_MS", "2000"},
                           {"DOCKERFLOW_HEARTBEAT_CACHE_MS", "0"}}});
  ASSERT_EQ(http_get(app.port(), "/__heartbeat__").status, 200);
  redis.pause();
  const auto started = test_clock::now();
  const auto r = http_get(app.port(), "/__heartbeat__?exclude=redis");
  EXPECT_LT(since(started), 500ms) << "waited for the excluded, hung check";
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["checks"], json({{"postgres", "ok"}}));
  EXPECT_FALSE(r.json()["details"].contains("redis"));

  const auto none = http_get(app.port(), "/__heartbeat__?exclude=redis&exclude=postgres&exclude=nonexistent");
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(none.json()["checks"], json::object());
  EXPECT_EQ(none.json()["status"], "ok");

  const auto all = http_get(app.port(), "/__heartbeat__?exclude=nonexistent", {}, 10s);
  EXPECT_EQ(all.status, 500) << "unknown names are ignored, so the hung check still counts";
  EXPECT_EQ(all.json()["checks"]["redis"], "error");
  redis.resume();
}

TEST(Monitoring, WithADetailsTokenOnlyItsBearerSeesTheMessages) {
  const std::string token = "kq8-3Jx_private-token";
  postgres_server postgres;
  app_process app({.env = {{"DATABASE_URL", postgres.url()}, {"DOCKERFLOW_HEARTBEAT_DETAILS_TOKEN", token},
                           {"DOCKERFLOW_HEARTBEAT_CACHE_MS", "0"}}});
  postgres.stop();
  for (const auto& auth : std::vector<header_list>{{}, {{"Authorization", "Bearer wrong"}}, {{"Authorization", token}}}) {
    const auto r = http_get(app.port(), "/__heartbeat__", auth);
    EXPECT_EQ(r.status, 500) << "the same status, details or not";
    EXPECT_EQ(r.json(), json({{"status", "error"}, {"checks", {{"postgres", "error"}}}})) << r.body;
    EXPECT_EQ(r.body.find("127.0.0.1"), std::string::npos);
  }
  const auto full = http_get(app.port(), "/__heartbeat__", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(full.status, 500);
  EXPECT_TRUE(full.json()["details"]["postgres"]["messages"].contains("postgres.E001")) << full.body;
  EXPECT_EQ(app.stdout_text().find(token), std::string::npos) << "the token was logged";
  EXPECT_EQ(app.stderr_text().find(token), std::string::npos);
  EXPECT_EQ(of_type(app, "server.listening").at(0)["Fields"]["details_private"], true);
}

TEST(Monitoring, WithoutATokenTheFullPayloadAsBefore) {
  app_process app;
  EXPECT_EQ(http_get(app.port(), "/__heartbeat__").json(), json::parse(R"({"status":"ok","checks":{},"details":{}})"));
}

TEST(Monitoring, EachLevelChangeIsLoggedOnceWithItsSeverity) {
  redis_server redis;
  app_process app({.env = {{"REDIS_URL", redis.url()}, {"DOCKERFLOW_HEARTBEAT_CACHE_MS", "0"}}});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(http_get(app.port(), "/__heartbeat__").status, 200);
  redis.stop();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(http_get(app.port(), "/__heartbeat__").status, 500);
  redis.start();
  ASSERT_TRUE(eventually(5s, [&] { return http_get(app.port(), "/__heartbeat__").status == 200; }));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(http_get(app.port(), "/__heartbeat__").status, 200);

  std::vector<json> changes;
  ASSERT_TRUE(eventually(2s, [&] {
    changes = of_type(app, "heartbeat.status_change");
    return changes.size() >= 3;
  }));
  ASSERT_EQ(changes.size(), 3u) << app.stdout_text();
  const auto expect_change = [](const json& line, const char* from, const char* to, int severity) {
    SCOPED_TRACE(line.dump());
    EXPECT_EQ(line["Fields"]["check"], "redis");
    EXPECT_EQ(line["Fields"]["from"], from);
    EXPECT_EQ(line["Fields"]["to"], to);
    EXPECT_EQ(line["Severity"], severity);
    EXPECT_TRUE(line["Fields"]["messages"].is_object());
    EXPECT_TRUE(line["Fields"]["duration_ms"].is_number());
  };
  expect_change(changes[0], "unknown", "ok", 6);
  expect_change(changes[1], "ok", "error", 4);
  EXPECT_TRUE(changes[1]["Fields"]["messages"].contains("redis.E001"));
  expect_change(changes[2], "error", "ok", 6);
}

TEST(Monitoring, LogProbesTrimsOnlyTheDockerflowRoutes) {
  redis_server redis;
  for (const char* mode : {"all", "failures", "none"}) {
    SCOPED_TRACE(std::string("DOCKERFLOW_LOG_PROBES=") + mode);
    app_process app({.env = {{"REDIS_URL", redis.url()}, {"DOCKERFLOW_LOG_PROBES", mode},
                             {"DOCKERFLOW_HEARTBEAT_CACHE_MS", "0"}}});
    ASSERT_EQ(http_get(app.port(), "/__lbheartbeat__", {{"X-Request-ID", "lb"}}).status, 200);
    ASSERT_EQ(http_get(app.port(), "/__version__", {{"X-Request-ID", "version"}}).status, 200);
    ASSERT_EQ(http_get(app.port(), "/elsewhere", {{"X-Request-ID", "other"}}).status, 404);
    redis.stop();
    ASSERT_EQ(http_get(app.port(), "/__heartbeat__", {{"X-Request-ID", "failing"}}).status, 500);
    redis.start();
    // The last line written is the one for /elsewhere or the failing heartbeat, whichever came last.
    ASSERT_EQ(http_get(app.port(), "/marker", {{"X-Request-ID", "marker"}}).status, 404);
    ASSERT_TRUE(eventually(2s, [&] { return parse_log(app.stdout_lines()).summary_for("marker").has_value(); }));
    const auto log = parse_log(app.stdout_lines());
    const bool all = std::string(mode) == "all";
    EXPECT_EQ(log.summary_for("lb").has_value(), all);
    EXPECT_EQ(log.summary_for("version").has_value(), all);
    EXPECT_EQ(log.summary_for("failing").has_value(), std::string(mode) != "none");
    EXPECT_TRUE(log.summary_for("other").has_value()) << "other paths are always logged";
  }
}

TEST(Monitoring, ASlowCheckReportsAWarningWithItsDuration) {
  redis_server redis;
  app_process app({.env = {{"REDIS_URL", redis.url()},
                           {"DOCKERFLOW_CHECK_WARN_MS", "100"},
                           {"DOCKERFLOW_HEARTBEAT_CACHE_MS", "0"}}});
  ASSERT_EQ(http_get(app.port(), "/__heartbeat__").json()["checks"]["redis"], "ok");
  redis.pause();
  std::thread resume([&] {
    std::this_thread::sleep_for(400ms);
    redis.resume();
  });
  const auto r = http_get(app.port(), "/__heartbeat__");
  resume.join();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["checks"]["redis"], "warning");
  const auto text = r.json()["details"]["redis"]["messages"]["redis.W001"].get<std::string>();
  EXPECT_TRUE(text.starts_with("took ")) << text;
  EXPECT_NE(text.find("over the 100 ms"), std::string::npos) << text;
  EXPECT_GE(r.json()["details"]["redis"]["duration_ms"].get<int>(), 300);
}

TEST(Monitoring, ErrorEndpointRaisesThroughTheNormalErrorPath) {
  {
    app_process off;
    EXPECT_EQ(http_get(off.port(), "/__error__").status, 404);
  }
  app_process app({.env = {{"DOCKERFLOW_ERROR_ENDPOINT", "1"}}});
  const auto r = http_get(app.port(), "/__error__", {{"X-Request-ID", "boom"}});
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.json()["error"], "Internal Server Error");
  EXPECT_EQ(r.header("X-Request-ID"), "boom");
  std::vector<json> errors;
  ASSERT_TRUE(eventually(2s, [&] { return !(errors = of_type(app, "request.error")).empty(); }));
  EXPECT_EQ(errors[0]["Severity"], 3);
  EXPECT_NE(errors[0]["Fields"]["error"].get<std::string>().find("deliberate"), std::string::npos);
  EXPECT_EQ(http_get(app.port(), "/__lbheartbeat__").status, 200) << "the server goes on serving";
}

}  // namespace
}  // namespace dockerflow::test
