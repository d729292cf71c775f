#include <dockerflow/health/check_health.hpp>

#include <gtest/gtest.h>

namespace dockerflow {
namespace {

using namespace std::chrono_literals;

const check_clock::time_point t0{std::chrono::seconds(1000)};

check_result ok(std::chrono::milliseconds duration = 2ms) { return {{}, duration}; }
check_result down() { return {{error_message("redis.E001", "connection refused")}, 1ms}; }

TEST(CheckHealth, NothingIsFreshBeforeTheFirstResult) {
  const check_health h("redis", {.cache = 1000ms});
  EXPECT_FALSE(h.fresh(t0).has_value());
  EXPECT_FALSE(h.recorded_since(t0 - 1h));
}

TEST(CheckHealth, TheLastResultIsReusedWithItsAgeUntilTheCacheExpires) {
  check_health h("redis", {.cache = 1000ms});
  h.record(down(), t0);
  const auto cached = h.fresh(t0 + 400ms);
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(cached->age, 400ms);
  EXPECT_EQ(cached->worst_level(), level::error) << "failing results are cached too";
  EXPECT_FALSE(h.fresh(t0 + 1000ms).has_value());
}

TEST(CheckHealth, ZeroCacheNeverReuses) {
  check_health h("redis", {.cache = 0ms});
  h.record(ok(), t0);
  EXPECT_FALSE(h.fresh(t0).has_value());
}

TEST(CheckHealth, FailuresAreWarningsUntilTheToleranceIsReached) {
  check_health h("redis", {.failures_before_error = 3});
  for (int i = 1; i <= 2; ++i) {
    const auto r = h.record(down(), t0 + i * 1s).reported;
    EXPECT_EQ(r.worst_level(), level::warning) << "failure " << i;
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0].id, "redis.E001") << "the message is kept";
    EXPECT_EQ(r.messages[0].text, "connection refused");
  }
  EXPECT_EQ(h.record(down(), t0 + 3s).reported.worst_level(), level::error);
  EXPECT_EQ(h.record(down(), t0 + 4s).reported.worst_level(), level::error);
}

TEST(CheckHealth, OneSuccessResetsTheCount) {
  check_health h("redis", {.failures_before_error = 2});
  EXPECT_EQ(h.record(down(), t0).reported.worst_level(), level::warning);
  EXPECT_EQ(h.record(ok(), t0 + 1s).reported.worst_level(), level::ok);
  EXPECT_EQ(h.record(down(), t0 + 2s).reported.worst_level(), level::warning);
  EXPECT_EQ(h.record(down(), t0 + 3s).reported.worst_level(), level::error);
}

TEST(CheckHealth, DefaultToleranceReportsTheFirstFailure) {
  check_health h("redis", {});
  EXPECT_EQ(h.record(down(), t0).reported.worst_level(), level::error);
}

TEST(CheckHealth, ASlowSuccessIsAWarningWithItsDuration) {
  check_health h("postgres", {.warn_after = 100ms});
  const auto slow = h.record(ok(250ms), t0).reported;
  EXPECT_EQ(slow.worst_level(), level::warning);
  ASSERT_EQ(slow.messages.size(), 1u);
  EXPECT_EQ(slow.messages[0].id, "postgres.W001");
  EXPECT_EQ(slow.messages[0].text, "took 250 ms, over the 100 ms of DOCKERFLOW_CHECK_WARN_MS");
  EXPECT_EQ(h.record(ok(100ms), t0 + 1s).reported.worst_level(), level::ok) << "at the limit is not slower";
  EXPECT_EQ(h.record(down(), t0 + 2s).reported.messages.size(), 1u) << "a failure is not also called slow";
}

TEST(CheckHealth, RecordTellsThePreviousLevel) {
  check_health h("redis", {});
  EXPECT_FALSE(h.record(ok(), t0).previous.has_value()) << "the first result comes from unknown";
  EXPECT_EQ(h.record(down(), t0 + 1s).previous, level::ok);
  EXPECT_EQ(h.record(down(), t0 + 2s).previous, level::error);
}

TEST(CheckHealth, RecordedSinceAnswersWhetherARequestWasAnswered) {
  check_health h("redis", {});
  h.record(down(), t0 + 5s);
  EXPECT_TRUE(h.recorded_since(t0 + 4s));
  EXPECT_TRUE(h.recorded_since(t0 + 5s));
  EXPECT_FALSE(h.recorded_since(t0 + 6s));
  EXPECT_EQ(h.last(t0 + 7s).age, 2s);
}

TEST(CheckHealth, SilencedMessageIdsAreDropped) {
  check_health h("redis", {.silenced = {"redis.E001", "redis.W009"}});
  const auto r = h.record({{error_message("redis.E001", "refused"), warning_message("redis.W002", "slow")}, 1ms}, t0).reported;
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].id, "redis.W002");
  EXPECT_EQ(r.worst_level(), level::warning);
}

TEST(CheckHealth, MessageHelpersForEveryLevel) {
  EXPECT_EQ(debug_message("a.D1", "").severity, level::debug);
  EXPECT_EQ(info_message("a.I1", "").severity, level::info);
  EXPECT_EQ(warning_message("a.W1", "").severity, level::warning);
  EXPECT_EQ(error_message("a.E1", "").severity, level::error);
  EXPECT_EQ(critical_message("a.C1", "").severity, level::critical);
}

TEST(CheckObservation, ChangedWhenTheLevelMovesOrOnTheFirstResult) {
  const check_result error_result = down();
  const check_result ok_result = ok();
  EXPECT_TRUE((check_observation{"redis", ok_result, std::nullopt}).changed());
  EXPECT_TRUE((check_observation{"redis", error_result, level::ok}).changed());
  EXPECT_FALSE((check_observation{"redis", error_result, level::error}).changed());
}

}  // namespace
}  // namespace dockerflow
