#include "fake_checks.hpp"

#include <dockerflow/health/check_runner.hpp>

#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <thread>

namespace dockerflow {
namespace {

using namespace std::chrono_literals;
using testing::collector;
using testing::gate;
using testing::gated_check;

check_clock::time_point in(std::chrono::milliseconds ms) { return check_clock::now() + ms; }

TEST(CheckRunner, NameIsTheChecks) {
  const check_runner runner(std::make_unique<testing::fixed_check>("postgres", std::vector<message>{}));
  EXPECT_EQ(runner.name(), "postgres");
}

TEST(CheckRunner, DeliversTheChecksMessagesAndDuration) {
  check_runner runner(std::make_unique<testing::fixed_check>(
      "redis", std::vector<message>{warning_message("redis.W001", "memory high")}));
  const auto results = std::make_shared<collector>();
  runner.request(in(1s), collector::into(results));
  ASSERT_TRUE(results->wait_for(1, 2s));
  std::lock_guard lock(results->mutex);
  ASSERT_EQ(results->results[0].messages.size(), 1u);
  EXPECT_EQ(results->results[0].messages[0].id, "redis.W001");
  EXPECT_EQ(results->results[0].messages[0].text, "memory high");
  EXPECT_GE(results->results[0].duration.count(), 0);
  EXPECT_LT(results->results[0].duration, 1s);
}

TEST(CheckRunner, PassesTheDeadlineToTheCheck) {
  const auto g = std::make_shared<gate>();
  g->open = true;
  check_runner runner(std::make_unique<gated_check>("slow", g));
  const auto results = std::make_shared<collector>();
  const auto deadline = in(750ms);
  runner.request(deadline, collector::into(results));
  ASSERT_TRUE(results->wait_for(1, 2s));
  std::lock_guard lock(g->mutex);
  ASSERT_EQ(g->deadlines.size(), 1u);
  EXPECT_EQ(g->deadlines[0], deadline);
}

TEST(CheckRunner, ConcurrentRequestsJoinTheProbeInFlight) {
  const auto g = std::make_shared<gate>();
  g->answer = {error_message("slow.E002", "refused")};
  check_runner runner(std::make_unique<gated_check>("slow", g));
  const auto results = std::make_shared<collector>();

  runner.request(in(1s), collector::into(results));
  ASSERT_TRUE(g->wait_for_runs(1, 2s));
  // Requests from several threads while the probe is blocked.
  std::vector<std::thread> pollers;
  for (int i = 0; i < 4; ++i) pollers.emplace_back([&] { runner.request(in(1s), collector::into(results)); });
  for (auto& t : pollers) t.join();
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(g->run_count(), 1);
  EXPECT_EQ(results->size(), 0u) << "nobody is answered before the probe returns";

  g->release();
  ASSERT_TRUE(results->wait_for(5, 2s));
  std::this_thread::sleep_for(30ms);  // room for a wrongly started second probe to show up
  EXPECT_EQ(g->run_count(), 1);
  std::lock_guard lock(results->mutex);
  ASSERT_EQ(results->results.size(), 5u);
  for (const auto& r : results->results) {
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0].id, "slow.E002");
    EXPECT_EQ(r.messages[0].text, "refused");
    EXPECT_EQ(r.duration, results->results[0].duration);
  }
}

TEST(CheckRunner, ARequestAfterCompletionRunsTheCheckAgain) {
  const auto g = std::make_shared<gate>();
  check_runner runner(std::make_unique<gated_check>("again", g));
  const auto first = std::make_shared<collector>();
  runner.request(in(1s), collector::into(first));
  ASSERT_TRUE(g->wait_for_runs(1, 2s));
  g->release();
  ASSERT_TRUE(first->wait_for(1, 2s));

  const auto second = std::make_shared<collector>();
  runner.request(in(1s), collector::into(second));
  ASSERT_TRUE(second->wait_for(1, 2s));
  EXPECT_EQ(g->run_count(), 2);
  EXPECT_EQ(first->size(), 1u) << "an earlier waiter is answered once only";
}

TEST(CheckRunner, AnExceptionBecomesAnErrorMessage) {
  check_runner runner(std::make_unique<testing::throwing_check>("broken"));
  const auto results = std::make_shared<collector>();
  runner.request(in(1s), collector::into(results));
  ASSERT_TRUE(results->wait_for(1, 2s));
  {
    std::lock_guard lock(results->mutex);
    const auto& r = results->results[0];
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0].id, "broken.E999");
    EXPECT_EQ(r.messages[0].severity, level::error);
    EXPECT_EQ(r.messages[0].text, "connection pool exploded");
  }
  // The worker survived the exception and keeps serving.
  runner.request(in(1s), collector::into(results));
  ASSERT_TRUE(results->wait_for(2, 2s));
}

// A check written against a library that throws something not derived from std::exception.
class throws_int final : public check {
 public:
  std::string_view name() const noexcept override { return "odd"; }
  std::vector<message> run(check_clock::time_point) override { throw 42; }
};

// Enabled, this aborts the whole process: the exception escapes the detached worker thread.
TEST(CheckRunner, ANonStandardExceptionBecomesAnErrorMessage) {
  check_runner runner(std::make_unique<throws_int>());
  const auto results = std::make_shared<collector>();
  runner.request(in(1s), collector::into(results));
  ASSERT_TRUE(results->wait_for(1, 2s));
  std::lock_guard lock(results->mutex);
  ASSERT_EQ(results->results[0].messages.size(), 1u);
  EXPECT_EQ(results->results[0].messages[0].id, "odd.E999");
}

TEST(CheckRunner, DestroyingItWhileAProbeHangsReturnsPromptly) {
  const auto g = std::make_shared<gate>();
  auto runner = std::make_unique<check_runner>(std::make_unique<gated_check>("hung", g));
  const auto results = std::make_shared<collector>();
  runner->request(in(100ms), collector::into(results));
  ASSERT_TRUE(g->wait_for_runs(1, 2s));

  const auto started = std::chrono::steady_clock::now();
  runner.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 200ms);

  // The probe comes back later: its thread must end, drop the check, and not call the forgotten waiter.
  g->release();
  EXPECT_TRUE(g->wait_destroyed(2s)) << "the worker thread never let go of the check";
  EXPECT_EQ(results->size(), 0u);
}

TEST(CheckRunner, DestroyingAnIdleRunnerEndsItsThread) {
  const auto g = std::make_shared<gate>();
  auto runner = std::make_unique<check_runner>(std::make_unique<gated_check>("idle", g));
  runner.reset();
  EXPECT_TRUE(g->wait_destroyed(2s));
  EXPECT_EQ(g->run_count(), 0);
}

// While a probe hangs, a poller whose deadline is long gone is forgotten rather than kept forever.
TEST(CheckRunner, StaleWaitersAreDroppedWhileAProbeHangs) {
  const auto g = std::make_shared<gate>();
  check_runner runner(std::make_unique<gated_check>("hung", g));
  const auto stale = std::make_shared<collector>();
  runner.request(check_clock::now() - 5s, collector::into(stale));
  ASSERT_TRUE(g->wait_for_runs(1, 2s));
  const auto fresh = std::make_shared<collector>();
  runner.request(in(1s), collector::into(fresh));
  g->release();
  ASSERT_TRUE(fresh->wait_for(1, 2s));
  EXPECT_EQ(stale->size(), 0u);
  EXPECT_EQ(g->run_count(), 1);
}

TEST(CheckRunner, WithinTheCacheTimeAResultIsReusedWithoutAProbe) {
  const auto g = std::make_shared<gate>();
  g->release();
  check_runner runner(std::make_unique<gated_check>("redis", g), {.cache = 10s});
  const auto first = std::make_shared<collector>();
  runner.request(in(1s), collector::into(first));
  ASSERT_TRUE(first->wait_for(1, 2s));
  const auto second = std::make_shared<collector>();
  runner.request(in(1s), collector::into(second));
  ASSERT_EQ(second->size(), 1u) << "a cached result is delivered at once, on the caller's thread";
  EXPECT_EQ(g->run_count(), 1);
}

TEST(CheckRunner, ObserversSeeEveryRecordedResultAndThePreviousLevel) {
  struct seen {
    std::mutex mutex;
    std::vector<std::pair<std::optional<level>, level>> changes;
  };
  const auto log = std::make_shared<seen>();
  check_runner runner(std::make_unique<testing::fixed_check>("queue", std::vector<message>{error_message("queue.E001", "x")}),
                      {}, [log](const check_observation& o) {
                        std::lock_guard lock(log->mutex);
                        log->changes.emplace_back(o.previous, o.reported.worst_level());
                      });
  for (int i = 0; i < 2; ++i) {
    const auto c = std::make_shared<collector>();
    runner.request(in(1s), collector::into(c));
    ASSERT_TRUE(c->wait_for(1, 2s));
  }
  std::lock_guard lock(log->mutex);
  ASSERT_EQ(log->changes.size(), 2u);
  EXPECT_FALSE(log->changes[0].first.has_value());
  EXPECT_EQ(log->changes[0].second, level::error);
  EXPECT_EQ(log->changes[1].first, level::error);
}

// Many requests waiting on one hung probe give up together: one failure is counted, not one each.
TEST(CheckRunner, RequestsGivingUpTogetherCountOneFailure) {
  const auto g = std::make_shared<gate>();
  check_runner runner(std::make_unique<gated_check>("redis", g), {.failures_before_error = 2});
  const auto started = check_clock::now();
  for (int i = 0; i < 3; ++i) runner.request(in(50ms), collector::into(std::make_shared<collector>()));
  ASSERT_TRUE(g->wait_for_runs(1, 2s));
  for (int i = 0; i < 3; ++i) {
    const auto r = runner.give_up(started, 50ms, 60ms);
    EXPECT_EQ(r.worst_level(), level::warning) << "within the tolerance, give-up " << i;
    ASSERT_EQ(r.messages.size(), 1u);
    EXPECT_EQ(r.messages[0].text, "timed out after 50 ms");
  }
  // A later wave of requests that also times out is the second consecutive failure.
  EXPECT_EQ(runner.give_up(check_clock::now() + 1ms, 50ms, 60ms).worst_level(), level::error);
  g->release();
}

}  // namespace
}  // namespace dockerflow
