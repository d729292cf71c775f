#include <dockerflow/heartbeat.hpp>
#include <dockerflow/heartbeat_round.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

namespace dockerflow {
namespace {

// A check that answers late still gets to report its own reason rather than a generic timeout.
constexpr std::chrono::milliseconds grace{100};

struct pending_round {
  pending_round(boost::asio::any_io_executor ex, std::vector<std::string> names, std::chrono::milliseconds timeout,
                heartbeat::completion callback)
      : round(std::move(names), timeout), timer(ex), done(std::move(callback)) {}

  heartbeat_round round;
  boost::asio::steady_timer timer;
  heartbeat::completion done;
  check_clock::time_point started = check_clock::now();

  void finish() {
    timer.cancel();
    if (done) std::exchange(done, nullptr)(round.report());
  }
};

}  // namespace

heartbeat::heartbeat(boost::asio::any_io_executor executor, std::vector<std::unique_ptr<check>> checks,
                     std::chrono::milliseconds timeout)
    : executor_(std::move(executor)), timeout_(timeout) {
  runners_.reserve(checks.size());
  for (auto& c : checks) runners_.push_back(std::make_unique<check_runner>(std::move(c)));
}

std::vector<std::string> heartbeat::check_names() const {
  std::vector<std::string> names;
  for (const auto& r : runners_) names.emplace_back(r->name());
  return names;
}

void heartbeat::async_run(completion done) {
  // Each round has its own strand: its results arrive from several runner threads and its timer may
  // fire on any event-loop thread.
  const auto strand = boost::asio::make_strand(executor_);
  auto pending = std::make_shared<pending_round>(strand, check_names(), timeout_, std::move(done));
  if (runners_.empty()) {
    boost::asio::post(strand, [pending] { pending->finish(); });
    return;
  }

  const auto deadline = pending->started + timeout_;
  for (std::size_t i = 0; i < runners_.size(); ++i) {
    // The runner thread hands its reference over, so the round (and its timer) dies on the loop thread.
    runners_[i]->request(deadline, [pending, i, ex = strand](check_result result) mutable {
      boost::asio::post(ex, [pending = std::move(pending), i, result = std::move(result)]() mutable {
        if (pending->round.complete(i, std::move(result))) pending->finish();
      });
    });
  }

  pending->timer.expires_at(deadline + grace);
  pending->timer.async_wait([pending](boost::system::error_code ec) {
    if (ec) return;
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(check_clock::now() - pending->started);
    if (pending->round.expire(elapsed)) pending->finish();
  });
}

}  // namespace dockerflow
