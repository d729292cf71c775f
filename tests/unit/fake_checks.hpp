#pragma once

// Test doubles for the check interface, used to drive the runner's and the heartbeat's threading.
// They stand in for "a dependency that answers" and "a dependency that hangs"; the real Postgres and
// Redis checks are exercised against real servers by the integration tier.

#include <dockerflow/health/check.hpp>
#include <dockerflow/health/check_runner.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace dockerflow::testing {

// Answers at once with fixed messages.
class fixed_check final : public check {
 public:
  fixed_check(std::string check_name, std::vector<message> answer)
      : name_(std::move(check_name)), answer_(std::move(answer)) {}

  std::string_view name() const noexcept override { return name_; }
  std::vector<message> run(check_clock::time_point) override { return answer_; }

 private:
  std::string name_;
  std::vector<message> answer_;
};

// Throws from run(), as a check with a bug would.
class throwing_check final : public check {
 public:
  explicit throwing_check(std::string check_name) : name_(std::move(check_name)) {}

  std::string_view name() const noexcept override { return name_; }
  std::vector<message> run(check_clock::time_point) override { throw std::runtime_error("connection pool exploded"); }

 private:
  std::string name_;
};

// Shared by a test and its gated_check. The check may outlive the runner (its thread is detached), so
// everything both sides touch lives here, behind a shared_ptr.
struct gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool open = false;
  int runs = 0;
  bool destroyed = false;
  std::vector<check_clock::time_point> deadlines;
  std::vector<message> answer;

  void release() {
    std::lock_guard lock(mutex);
    open = true;
    changed.notify_all();
  }

  int run_count() {
    std::lock_guard lock(mutex);
    return runs;
  }

  bool wait_for_runs(int n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, [&] { return runs >= n; });
  }

  bool wait_destroyed(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, [&] { return destroyed; });
  }
};

// Blocks in run() until the gate opens: a dependency that accepted the connection and went silent.
class gated_check final : public check {
 public:
  gated_check(std::string check_name, std::shared_ptr<gate> g) : name_(std::move(check_name)), gate_(std::move(g)) {}
  ~gated_check() override {
    std::lock_guard lock(gate_->mutex);
    gate_->destroyed = true;
    gate_->changed.notify_all();
  }

  std::string_view name() const noexcept override { return name_; }
  std::vector<message> run(check_clock::time_point deadline) override {
    std::unique_lock lock(gate_->mutex);
    ++gate_->runs;
    gate_->deadlines.push_back(deadline);
    gate_->changed.notify_all();
    gate_->changed.wait(lock, [&] { return gate_->open; });
    return gate_->answer;
  }

 private:
  std::string name_;
  std::shared_ptr<gate> gate_;
};

// Collects what a check_runner delivers; shared so a late delivery can never touch a dead test frame.
struct collector {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<check_result> results;

  static check_runner::completion into(const std::shared_ptr<collector>& c) {
    return [c](check_result r) {
      std::lock_guard lock(c->mutex);
      c->results.push_back(std::move(r));
      c->changed.notify_all();
    };
  }

  bool wait_for(std::size_t n, std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, limit, [&] { return results.size() >= n; });
  }

  std::size_t size() {
    std::lock_guard lock(mutex);
    return results.size();
  }
};

template <typename... Checks>
std::vector<std::unique_ptr<check>> make_checks(std::unique_ptr<Checks>... checks) {
  std::vector<std::unique_ptr<check>> all;
  (all.push_back(std::move(checks)), ...);
  return all;
}

}  // namespace dockerflow::testing
