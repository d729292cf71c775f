#include "fake_checks.hpp"

#include <dockerflow/health/heartbeat.hpp>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <optional>
#include <thread>

namespace dockerflow {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using testing::fixed_check;
using testing::gate;
using testing::gated_check;
using testing::make_checks;

// Runs one heartbeat on `io` and records when its report arrived.
struct beat_result {
  std::optional<heartbeat_report> report;
  steady::duration took{};
};

beat_result run_once(boost::asio::io_context& io, heartbeat& beat) {
  beat_result out;
  const auto started = steady::now();
  beat.async_run([&](heartbeat_report r) {
    out.took = steady::now() - started;
    out.report = std::move(r);
  });
  EXPECT_FALSE(out.report.has_value()) << "the report is delivered on the executor, not inside async_run";
  io.restart();
  io.run_for(2s);
  return out;
}

const check_result& result_named(const heartbeat_report& report, std::string_view name) {
  for (const auto& o : report.outcomes)
    if (o.name == name) return o.result;
  throw std::out_of_range(std::string(name));
}

TEST(Heartbeat, CheckNamesInRegistrationOrder) {
  boost::asio::io_context io;
  const heartbeat beat(io.get_executor(),
                       make_checks(std::make_unique<fixed_check>("postgres", std::vector<message>{}),
                                   std::make_unique<fixed_check>("redis", std::vector<message>{})),
                       1500ms);
  EXPECT_EQ(beat.check_names(), (std::vector<std::string>{"postgres", "redis"}));
  EXPECT_EQ(beat.timeout(), 1500ms);
}

TEST(Heartbeat, FastChecksAllReport) {
  boost::asio::io_context io;
  heartbeat beat(io.get_executor(),
                 make_checks(std::make_unique<fixed_check>("postgres", std::vector<message>{}),
                             std::make_unique<fixed_check>("redis", std::vector<message>{warning_message("redis.W001", "slow")}),
                             std::make_unique<fixed_check>("queue", std::vector<message>{})),
                 500ms);
  const auto out = run_once(io, beat);
  ASSERT_TRUE(out.report.has_value());
  EXPECT_LT(out.took, 300ms) << "fast checks must not wait for the deadline";
  ASSERT_EQ(out.report->outcomes.size(), 3u);
  EXPECT_EQ(out.report->outcomes[0].name, "postgres");
  EXPECT_EQ(out.report->outcomes[1].name, "redis");
  EXPECT_EQ(out.report->outcomes[2].name, "queue");
  EXPECT_TRUE(out.report->outcomes[0].result.messages.empty());
  ASSERT_EQ(out.report->outcomes[1].result.messages.size(), 1u);
  EXPECT_EQ(out.report->outcomes[1].result.messages[0].id, "redis.W001");
  EXPECT_EQ(out.report->status(), level::warning);
  EXPECT_EQ(out.report->http_status(503), 200u);
}

TEST(Heartbeat, CachedResultsAnswerInsideTheCallWithoutAProbe) {
  boost::asio::io_context io;
  heartbeat beat(io.get_executor(),
                 make_checks(std::make_unique<fixed_check>("postgres", std::vector<message>{}),
                             std::make_unique<fixed_check>("redis", std::vector<message>{warning_message("redis.W001", "slow")})),
                 500ms, health_policy{.cache = 60s});
  ASSERT_TRUE(run_once(io, beat).report.has_value());  // the first round probes, and fills the cache

  std::optional<heartbeat_report> cached;
  beat.async_run([&](heartbeat_report r) { cached = std::move(r); });
  ASSERT_TRUE(cached.has_value()) << "every result was cached: nothing to wait for";
  ASSERT_EQ(cached->outcomes.size(), 2u);
  EXPECT_EQ(cached->outcomes[1].result.messages.at(0).id, "redis.W001");
  EXPECT_EQ(cached->status(), level::warning);

  // A round of fewer checks is answered from the cache just the same.
  std::optional<heartbeat_report> partial;
  beat.async_run([&](heartbeat_report r) { partial = std::move(r); }, {"redis"});
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(partial->outcomes.size(), 1u);
}

TEST(Heartbeat, ZeroChecksIsOk) {
  boost::asio::io_context io;
  heartbeat beat(io.get_executor(), {}, 100ms);
  const auto out = run_once(io, beat);
  ASSERT_TRUE(out.report.has_value());
  EXPECT_TRUE(out.report->outcomes.empty());
  EXPECT_EQ(out.report->status(), level::ok);
  EXPECT_LT(out.took, 50ms);
}

TEST(Heartbeat, AHungCheckTimesOutAndTheOthersStillReport) {
  const auto g = std::make_shared<gate>();
  boost::asio::io_context io;
  auto beat = std::make_unique<heartbeat>(
      io.get_executor(),
      make_checks(std::make_unique<fixed_check>("postgres", std::vector<message>{}),
                  std::make_unique<gated_check>("redis", g)),
      100ms);
  const auto started = check_clock::now();
  const auto out = run_once(io, *beat);
  ASSERT_TRUE(out.report.has_value());
  EXPECT_GE(out.took, 100ms) << "reported before the deadline";
  EXPECT_LT(out.took, 400ms) << "timeout + 300 ms";

  const auto& redis = result_named(*out.report, "redis");
  ASSERT_EQ(redis.messages.size(), 1u);
  EXPECT_EQ(redis.messages[0].id, "redis.E001");
  EXPECT_EQ(redis.messages[0].text, "timed out after 100 ms");
  EXPECT_EQ(redis.worst_level(), level::error);
  EXPECT_GE(redis.duration, 100ms);
  EXPECT_TRUE(result_named(*out.report, "postgres").messages.empty());
  EXPECT_EQ(out.report->status(), level::error);
  EXPECT_EQ(out.report->http_status(503), 503u);

  {  // The check itself was told the heartbeat's deadline.
    std::lock_guard lock(g->mutex);
    ASSERT_EQ(g->deadlines.size(), 1u);
    EXPECT_GE(g->deadlines[0], started + 100ms);
    EXPECT_LT(g->deadlines[0], started + 150ms);
  }

  beat.reset();
  g->release();
  EXPECT_TRUE(g->wait_destroyed(2s));
}

TEST(Heartbeat, RepeatedPollsDoNotStackProbesOnAHungCheck) {
  const auto g = std::make_shared<gate>();
  boost::asio::io_context io;
  auto beat = std::make_unique<heartbeat>(io.get_executor(), make_checks(std::make_unique<gated_check>("redis", g)), 60ms);
  for (int i = 0; i < 3; ++i) {
    const auto out = run_once(io, *beat);
    ASSERT_TRUE(out.report.has_value()) << "poll " << i;
    EXPECT_LT(out.took, 360ms) << "poll " << i;
    EXPECT_EQ(out.report->status(), level::error) << "poll " << i;
  }
  EXPECT_EQ(g->run_count(), 1) << "one probe in flight however often the heartbeat is polled";
  beat.reset();
  g->release();
  EXPECT_TRUE(g->wait_destroyed(2s));
}

// Each check waits until every other one has started: sequential runs would never get there.
class rendezvous_check final : public check {
 public:
  rendezvous_check(std::string check_name, std::shared_ptr<gate> g, int parties)
      : name_(std::move(check_name)), gate_(std::move(g)), parties_(parties) {}
  std::string_view name() const noexcept override { return name_; }
  std::vector<message> run(check_clock::time_point) override {
    std::unique_lock lock(gate_->mutex);
    ++gate_->runs;
    gate_->changed.notify_all();
    if (gate_->changed.wait_for(lock, 400ms, [&] { return gate_->runs >= parties_; })) return {};
    return {error_message(name_ + ".E100", "ran alone")};
  }

 private:
  std::string name_;
  std::shared_ptr<gate> gate_;
  int parties_;
};

TEST(Heartbeat, ChecksRunConcurrently) {
  const auto g = std::make_shared<gate>();
  boost::asio::io_context io;
  heartbeat beat(io.get_executor(),
                 make_checks(std::make_unique<rendezvous_check>("a", g, 3), std::make_unique<rendezvous_check>("b", g, 3),
                             std::make_unique<rendezvous_check>("c", g, 3)),
                 600ms);
  const auto out = run_once(io, beat);
  ASSERT_TRUE(out.report.has_value());
  EXPECT_EQ(out.report->status(), level::ok) << out.report->to_json();
  EXPECT_LT(out.took, 300ms);
}

// Sleeps past the deadline, then answers with its own reason.
class late_check final : public check {
 public:
  explicit late_check(std::chrono::milliseconds late) : late_(late) {}
  std::string_view name() const noexcept override { return "late"; }
  std::vector<message> run(check_clock::time_point deadline) override {
    std::this_thread::sleep_until(deadline + late_);
    return {error_message("late.E002", "connection refused")};
  }

 private:
  std::chrono::milliseconds late_;
};

TEST(Heartbeat, ACheckAnsweringJustAfterTheDeadlineKeepsItsOwnReason) {
  boost::asio::io_context io;
  heartbeat beat(io.get_executor(), make_checks(std::make_unique<late_check>(10ms)), 100ms);
  const auto out = run_once(io, beat);
  ASSERT_TRUE(out.report.has_value());
  EXPECT_LT(out.took, 400ms);
  const auto& late = result_named(*out.report, "late");
  ASSERT_EQ(late.messages.size(), 1u);
  EXPECT_EQ(late.messages[0].id, "late.E002");
}

TEST(Heartbeat, AThrowingCheckIsAnErrorNotACrash) {
  boost::asio::io_context io;
  heartbeat beat(io.get_executor(),
                 make_checks(std::make_unique<testing::throwing_check>("db"),
                             std::make_unique<fixed_check>("cache", std::vector<message>{})),
                 300ms);
  const auto out = run_once(io, beat);
  ASSERT_TRUE(out.report.has_value());
  EXPECT_LT(out.took, 250ms);
  const auto& db = result_named(*out.report, "db");
  ASSERT_EQ(db.messages.size(), 1u);
  EXPECT_EQ(db.messages[0].id, "db.E999");
  EXPECT_EQ(out.report->status(), level::error);
}

}  // namespace
}  // namespace dockerflow
