#pragma once

#include <dockerflow/check.hpp>

#include <functional>
#include <memory>

namespace dockerflow {

// Runs one check on its own worker thread, one probe at a time. A request made while a probe is in
// flight joins that probe instead of starting another, so a hung dependency costs one thread and one
// connection however often the heartbeat is polled.
class check_runner {
 public:
  using completion = std::function<void(check_result)>;

  explicit check_runner(std::unique_ptr<check> c);
  ~check_runner();
  check_runner(const check_runner&) = delete;
  check_runner& operator=(const check_runner&) = delete;

  std::string_view name() const noexcept;

  // Thread-safe. `done` runs on the worker thread when the probe finishes; it may never run if the
  // probe hangs forever, so callers keep their own deadline.
  void request(check_clock::time_point deadline, completion done);

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace dockerflow
