#include <dockerflow/health/heartbeat_round.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dockerflow {
namespace {

using namespace std::chrono_literals;

check_result result_of(std::vector<message> messages, std::chrono::milliseconds duration) {
  return check_result{std::move(messages), duration};
}

heartbeat_round three_checks() { return heartbeat_round({"postgres", "redis", "queue"}, 250ms); }

TEST(HeartbeatRound, CompletesWhenTheLastResultArrivesInAnyOrder) {
  auto round = three_checks();
  EXPECT_FALSE(round.done());
  EXPECT_FALSE(round.complete(2, result_of({warning_message("queue.W001", "deep")}, 7ms)));
  EXPECT_FALSE(round.done());
  EXPECT_FALSE(round.complete(0, result_of({}, 3ms)));
  EXPECT_FALSE(round.done());
  EXPECT_TRUE(round.complete(1, result_of({}, 5ms)));
  EXPECT_TRUE(round.done());

  const auto report = round.report();
  ASSERT_EQ(report.outcomes.size(), 3u);
  EXPECT_EQ(report.outcomes[0].name, "postgres");
  EXPECT_EQ(report.outcomes[0].result.duration, 3ms);
  EXPECT_EQ(report.outcomes[1].name, "redis");
  EXPECT_EQ(report.outcomes[1].result.duration, 5ms);
  EXPECT_EQ(report.outcomes[2].name, "queue");
  EXPECT_EQ(report.outcomes[2].result.duration, 7ms);
  ASSERT_EQ(report.outcomes[2].result.messages.size(), 1u);
  EXPECT_EQ(report.outcomes[2].result.messages[0].id, "queue.W001");
  EXPECT_EQ(report.status(), level::warning);
}

TEST(HeartbeatRound, ASecondResultForTheSameCheckIsIgnored) {
  auto round = three_checks();
  EXPECT_FALSE(round.complete(0, result_of({}, 1ms)));
  EXPECT_FALSE(round.complete(0, result_of({error_message("postgres.E001", "down")}, 9ms)));
  EXPECT_FALSE(round.done()) << "a duplicate must not count towards completion";
  const auto report = round.report();
  EXPECT_TRUE(report.outcomes[0].result.messages.empty());
  EXPECT_EQ(report.outcomes[0].result.duration, 1ms);
}

TEST(HeartbeatRound, OutOfRangeIndexIsIgnored) {
  auto round = three_checks();
  EXPECT_FALSE(round.complete(3, result_of({}, 1ms)));
  EXPECT_FALSE(round.complete(static_cast<std::size_t>(-1), result_of({}, 1ms)));
  EXPECT_FALSE(round.done());
}

TEST(HeartbeatRound, ExpireMarksOnlyTheMissingChecksAsTimedOut) {
  auto round = three_checks();
  EXPECT_FALSE(round.complete(1, result_of({warning_message("redis.W001", "slow")}, 40ms)));
  EXPECT_TRUE(round.expire(260ms));
  EXPECT_TRUE(round.done());

  const auto report = round.report();
  ASSERT_EQ(report.outcomes.size(), 3u);
  for (const std::size_t i : {std::size_t{0}, std::size_t{2}}) {
    const auto& o = report.outcomes[i];
    ASSERT_EQ(o.result.messages.size(), 1u) << o.name;
    EXPECT_EQ(o.result.messages[0].id, o.name + ".E001");
    EXPECT_EQ(o.result.messages[0].text, "timed out after 250 ms");
    EXPECT_EQ(o.result.messages[0].severity, level::error);
    EXPECT_EQ(o.result.duration, 260ms) << "the elapsed time, not the timeout";
  }
  const auto& answered = report.outcomes[1];
  ASSERT_EQ(answered.result.messages.size(), 1u);
  EXPECT_EQ(answered.result.messages[0].id, "redis.W001");
  EXPECT_EQ(answered.result.duration, 40ms);

  EXPECT_EQ(report.status(), level::error);
  EXPECT_EQ(report.http_status(503), 503u);
}

TEST(HeartbeatRound, LateResultsAfterExpiryAreIgnored) {
  auto round = three_checks();
  EXPECT_TRUE(round.expire(251ms));
  EXPECT_FALSE(round.complete(0, result_of({}, 300ms)));
  EXPECT_FALSE(round.complete(2, result_of({}, 300ms)));
  const auto report = round.report();
  for (const auto& o : report.outcomes) {
    ASSERT_EQ(o.result.messages.size(), 1u) << o.name;
    EXPECT_EQ(o.result.messages[0].id, o.name + ".E001");
    EXPECT_EQ(o.result.duration, 251ms);
  }
}

TEST(HeartbeatRound, ExpireAfterCompletionChangesNothing) {
  auto round = heartbeat_round({"a", "b"}, 100ms);
  EXPECT_FALSE(round.complete(0, result_of({}, 1ms)));
  EXPECT_TRUE(round.complete(1, result_of({}, 2ms)));
  EXPECT_FALSE(round.expire(100ms));
  const auto report = round.report();
  EXPECT_EQ(report.status(), level::ok);
  EXPECT_TRUE(report.outcomes[0].result.messages.empty());
  EXPECT_TRUE(report.outcomes[1].result.messages.empty());
  EXPECT_EQ(report.outcomes[1].result.duration, 2ms);
}

TEST(HeartbeatRound, ExpireOnlyFinishesTheRoundOnce) {
  auto round = heartbeat_round({"a"}, 100ms);
  EXPECT_TRUE(round.expire(100ms));
  EXPECT_FALSE(round.expire(500ms));
  EXPECT_EQ(round.report().outcomes[0].result.duration, 100ms);
}

TEST(HeartbeatRound, NoChecksIsDoneAtOnce) {
  auto round = heartbeat_round({}, 100ms);
  EXPECT_TRUE(round.done());
  EXPECT_FALSE(round.expire(1ms));
  EXPECT_TRUE(round.report().outcomes.empty());
  EXPECT_EQ(round.report().to_json(), R"({"status":"ok","checks":{},"details":{}})");
}

TEST(HeartbeatRound, TimeoutTextUsesTheConfiguredTimeout) {
  auto round = heartbeat_round({"redis"}, 2000ms);
  round.expire(2100ms);
  EXPECT_EQ(round.report().to_json(),
            R"({"status":"error","checks":{"redis":"error"},"details":{"redis":{"status":"error","level":40,)"
            R"("messages":{"redis.E001":"timed out after 2000 ms"},"duration_ms":2100,"age_ms":0}}})");
}

}  // namespace
}  // namespace dockerflow
