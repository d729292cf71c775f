#include <dockerflow/health/heartbeat.hpp>
#include <dockerflow/health/heartbeat_round.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <optional>

namespace dockerflow {
namespace {

// A check that answers late still gets to report its own reason rather than a generic timeout.
constexpr std::chrono::milliseconds grace{100};

std::vector<std::string> names_of(const std::vector<std::shared_ptr<check_runner>>& runners) {
  std::vector<std::string> names;
  for (const auto& r : runners) names.emplace_back(r->name());
  return names;
}

struct pending_round {
  pending_round(boost::asio::any_io_executor ex, const std::vector<std::shared_ptr<check_runner>>& selected,
                std::chrono::milliseconds timeout, heartbeat::completion callback)
      : runners(selected.begin(), selected.end()), round(names_of(selected), timeout), timer(ex),
        done(std::move(callback)) {}

  // Weak: a runner's waiters hold this round, so owning the runners here would keep both alive forever.
  std::vector<std::weak_ptr<check_runner>> runners;
  heartbeat_round round;
  boost::asio::steady_timer timer;
  heartbeat::completion done;
  check_clock::time_point started = check_clock::now();

  void finish() {
    timer.cancel();
    if (done) std::exchange(done, nullptr)(round.report());
  }
};

// The round's report when every selected check's result is still cached: it needs no probe, and
// so no strand, timer or hop between threads. nullopt when any check must be asked.
std::optional<heartbeat_report> report_from_cache(const std::vector<std::shared_ptr<check_runner>>& selected) {
  heartbeat_report report;
  report.outcomes.reserve(selected.size());
  for (const auto& r : selected) {
    auto result = r->cached();
    if (!result) return std::nullopt;
    report.outcomes.push_back({std::string(r->name()), std::move(*result)});
  }
  return report;
}

}  // namespace

heartbeat::heartbeat(boost::asio::any_io_executor executor, std::vector<std::unique_ptr<check>> checks,
                     std::chrono::milliseconds timeout, health_policy policy, result_observer observer)
    : executor_(std::move(executor)), timeout_(timeout) {
  runners_.reserve(checks.size());
  for (auto& c : checks) runners_.push_back(std::make_shared<check_runner>(std::move(c), policy, observer));
}

std::vector<std::string> heartbeat::check_names() const { return names_of(runners_); }

void heartbeat::async_run(completion done, const std::vector<std::string>& exclude) {
  std::vector<std::shared_ptr<check_runner>> selected;
  for (const auto& r : runners_)
    if (std::find(exclude.begin(), exclude.end(), r->name()) == exclude.end()) selected.push_back(r);

  if (!selected.empty()) {
    if (auto report = report_from_cache(selected)) return done(std::move(*report));
  }

  // Each round has its own strand: its results arrive from several runner threads and its timer may
  // fire on any event-loop thread.
  const auto strand = boost::asio::make_strand(executor_);
  auto pending = std::make_shared<pending_round>(strand, selected, timeout_, std::move(done));
  if (selected.empty()) {
    boost::asio::post(strand, [pending] { pending->finish(); });
    return;
  }

  const auto deadline = pending->started + timeout_;
  // Armed before any result can arrive: a cached result completes the round on its strand at once,
  // and the timer must not be touched from this thread while that strand cancels it.
  pending->timer.expires_at(deadline + grace);
  pending->timer.async_wait([pending, timeout = timeout_](boost::system::error_code ec) {
    if (ec) return;
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(check_clock::now() - pending->started);
    const bool finished = pending->round.expire([&](std::size_t i) {
      if (const auto runner = pending->runners[i].lock()) return runner->give_up(pending->started, timeout, elapsed);
      return heartbeat_round::timed_out(pending->round.name(i), timeout, elapsed);  // the heartbeat is going away
    });
    if (finished) pending->finish();
  });

  for (std::size_t i = 0; i < selected.size(); ++i) {
    // The runner thread hands its reference over, so the round (and its timer) dies on the loop thread.
    selected[i]->request(deadline, [pending, i, ex = strand](check_result result) mutable {
      boost::asio::post(ex, [pending = std::move(pending), i, result = std::move(result)]() mutable {
        if (pending->round.complete(i, std::move(result))) pending->finish();
      });
    });
  }
}

}  // namespace dockerflow
