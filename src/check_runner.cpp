#include <dockerflow/check_runner.hpp>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace dockerflow {
namespace {

constexpr std::chrono::seconds stale_after{1};

}  // namespace

struct check_runner::state {
  explicit state(std::unique_ptr<check> c) : probe(std::move(c)) {}

  std::unique_ptr<check> probe;
  std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable delivered;
  struct waiter {
    check_clock::time_point deadline;
    completion done;
  };
  std::vector<waiter> waiters;
  check_clock::time_point deadline;
  bool requested = false;
  bool probing = false;
  bool delivering = false;
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
      const auto result = run_once(until);
      lock.lock();
      probing = false;
      if (stopping) return;  // whoever waited is gone with the event loop
      deliver(lock, result);
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

  void deliver(std::unique_lock<std::mutex>& lock, const check_result& result) {
    auto ready = std::move(waiters);
    waiters.clear();
    delivering = true;
    lock.unlock();
    for (auto& w : ready) w.done(result);
    lock.lock();
    delivering = false;
    delivered.notify_all();
  }
};

check_runner::check_runner(std::unique_ptr<check> c) : state_(std::make_shared<state>(std::move(c))) {
  std::thread([s = state_] { s->loop(); }).detach();
}

check_runner::~check_runner() {
  std::unique_lock lock(state_->mutex);
  state_->stopping = true;
  state_->waiters.clear();
  state_->wake.notify_all();
  // The thread may be stuck in a probe against a hung server; it keeps `state_` alive and exits when
  // the probe returns. Only completions already being delivered must finish before we go.
  state_->delivered.wait(lock, [&] { return !state_->delivering; });
}

std::string_view check_runner::name() const noexcept { return state_->probe->name(); }

void check_runner::request(check_clock::time_point deadline, completion done) {
  std::lock_guard lock(state_->mutex);
  // Requesters stop listening at their deadline; while a probe hangs, forget them instead of piling up.
  std::erase_if(state_->waiters, [now = check_clock::now()](const auto& w) { return w.deadline + stale_after < now; });
  state_->waiters.push_back({deadline, std::move(done)});
  if (state_->probing || state_->requested) return;  // join the probe in flight
  state_->deadline = deadline;
  state_->requested = true;
  state_->wake.notify_one();
}

}  // namespace dockerflow
