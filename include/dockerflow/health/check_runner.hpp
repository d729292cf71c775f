#pragma once

#include <dockerflow/health/check.hpp>
#include <dockerflow/health/check_health.hpp>

#include <functional>
#include <memory>
#include <optional>

namespace dockerflow {

// Told of every result a check records (a finished probe, or a timeout), on the thread that recorded
// it: a runner thread or an event-loop thread. Must not block.
using result_observer = std::function<void(const check_observation&)>;

// Runs one check on its own worker thread, one probe at a time. A request made while a probe is in
// flight joins that probe instead of starting another, and a request within the policy's cache time
// of the last result gets that result, so a hung dependency costs one thread and one connection and a
// flood of heartbeats costs at most one probe per cache period, however often the heartbeat is polled.
class check_runner {
 public:
  using completion = std::function<void(check_result)>;

  explicit check_runner(std::unique_ptr<check> c, health_policy policy = {}, result_observer observer = {});
  ~check_runner();
  check_runner(const check_runner&) = delete;
  check_runner& operator=(const check_runner&) = delete;

  std::string_view name() const noexcept;

  // Thread-safe. `done` runs on the worker thread when the probe finishes, or at once on the calling
  // thread with a cached result; it may never run if the probe hangs forever, so callers keep their
  // own deadline and call give_up() there.
  void request(check_clock::time_point deadline, completion done);

  // Thread-safe. The last result while the cache still holds it, as request() would deliver it.
  std::optional<check_result> cached() const;

  // Thread-safe. A request made at `requested_at` stopped waiting after `elapsed`: records a timeout
  // (unless a result was recorded since the request began, which then answers it) and returns what
  // to report.
  check_result give_up(check_clock::time_point requested_at, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds elapsed);

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace dockerflow
