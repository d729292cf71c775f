#include <dockerflow/health/check_runner.hpp>
#include <dockerflow/health/heartbeat_round.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

#include <pthread.h>

namespace dockerflow {
namespace {

constexpr std::chrono::seconds stale_after{1};

}  // namespace

struct check_runner::state {
  state(std::unique_ptr<check> c, health_policy policy, result_observer observer_)
      : probe(std::move(c)), health(std::string(probe->name()), policy), observer(std::move(observer_)) {}

  std::unique_ptr<check> probe;
  std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable delivered;
  check_health health;
  result_observer observer;
  struct waiter {
    check_clock::time_point deadline;
    completion done;
  };
  std::vector<waiter> waiters;
  check_clock::time_point deadline;
  bool requested = false;
  bool probing = false;
  unsigned delivering = 0;  // deliveries and give-ups whose observers or completions are running
  bool stopping = false;

  void loop() {
    std::unique_lock lock(mutex);
    for (;;) {
      wake.wait(lock, [&] { return requested || stopping; });
      if (stopping) return;
      requested = false;
      probing = true;
      const auto until = deadline;
      lock.unlock();
      auto result = run_once(until);
      lock.lock();
      probing = false;
      if (stopping) return;  // whoever waited is gone with the event loop
      deliver(lock, std::move(result));
    }
  }

  check_result run_once(check_clock::time_point until) {
    const auto started = check_clock::now();
    check_result result;
    try {
      result.messages = probe->run(until);
    } catch (const std::exception& e) {
      result.messages.push_back(error_message(std::string(probe->name()) + ".E999", e.what()));
    } catch (...) {  // an escaped exception would end the process from this thread
      result.messages.push_back(error_message(std::string(probe->name()) + ".E999", "unknown exception"));
    }
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(check_clock::now() - started);
    return result;
  }

  // Called and returns with the lock held; observers and completions run without it.
  check_result record(std::unique_lock<std::mutex>& lock, check_result raw) {
    auto [reported, previous] = health.record(std::move(raw), check_clock::now());
    if (observer) {
      lock.unlock();
      observer(check_observation{probe->name(), reported, previous});
      lock.lock();
    }
    return reported;
  }

  void deliver(std::unique_lock<std::mutex>& lock, check_result raw) {
    ++delivering;  // the destructor waits for observers and completions to finish
    const auto reported = record(lock, std::move(raw));
    auto ready = std::move(waiters);
    waiters.clear();
    lock.unlock();
    for (auto& w : ready) w.done(reported);
    lock.lock();
    --delivering;
    delivered.notify_all();
  }
};

check_runner::check_runner(std::unique_ptr<check> c, health_policy policy, result_observer observer)
    : state_(std::make_shared<state>(std::move(c), policy, std::move(observer))) {
  std::thread([s = state_] {
    pthread_setname_np(pthread_self(), ("check-" + std::string(s->probe->name())).substr(0, 15).c_str());
    s->loop();
  }).detach();
}

check_runner::~check_runner() {
  std::unique_lock lock(state_->mutex);
  state_->stopping = true;
  state_->waiters.clear();
  state_->wake.notify_all();
  // The thread may be stuck in a probe against a hung server; it keeps `state_` alive and exits when
  // the probe returns. Only completions already being delivered must finish before we go.
  state_->delivered.wait(lock, [&] { return state_->delivering == 0; });
}

std::string_view check_runner::name() const noexcept { return state_->probe->name(); }

std::optional<check_result> check_runner::cached() const {
  const std::lock_guard lock(state_->mutex);
  return state_->health.fresh(check_clock::now());
}

void check_runner::request(check_clock::time_point deadline, completion done) {
  std::unique_lock lock(state_->mutex);
  const auto now = check_clock::now();
  if (auto cached = state_->health.fresh(now)) {
    lock.unlock();
    return done(std::move(*cached));
  }
  // Requesters stop listening at their deadline; while a probe hangs, forget them instead of piling up.
  std::erase_if(state_->waiters, [now](const auto& w) { return w.deadline + stale_after < now; });
  state_->waiters.push_back({deadline, std::move(done)});
  if (state_->probing || state_->requested) return;  // join the probe in flight
  state_->deadline = deadline;
  state_->requested = true;
  state_->wake.notify_one();
}

check_result check_runner::give_up(check_clock::time_point requested_at, std::chrono::milliseconds timeout,
                                   std::chrono::milliseconds elapsed) {
  std::unique_lock lock(state_->mutex);
  // Many heartbeats waiting on one hung probe give up together: the first counts the failure.
  if (state_->health.recorded_since(requested_at)) return state_->health.last(check_clock::now());
  auto timed_out = heartbeat_round::timed_out(std::string(state_->probe->name()), timeout, elapsed);
  ++state_->delivering;
  auto reported = state_->record(lock, std::move(timed_out));
  --state_->delivering;
  state_->delivered.notify_all();
  return reported;
}

}  // namespace dockerflow
