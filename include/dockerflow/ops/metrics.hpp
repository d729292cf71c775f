#pragma once

#include <dockerflow/health/level.hpp>

#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

namespace dockerflow {

// What the service measures, told to every configured backend (statsd, Prometheus). Calls come from
// any event-loop thread and from check runner threads: implementations are thread-safe and never block.
class metrics {
 public:
  virtual ~metrics() = default;
  // One answered request. `route` is the registered path that matched, or "other" for any path no
  // route serves (client-chosen paths must not create metric names).
  virtual void request(std::string_view route, unsigned status, std::chrono::microseconds duration) = 0;
  // One /__heartbeat__ answer: passed means HTTP 200.
  virtual void heartbeat(bool passed) = 0;
  // One reported check result: its level and how long the probe took.
  virtual void check(std::string_view name, level reported, std::chrono::milliseconds duration) = 0;
};

// Tells each of `backends` everything; with none it does nothing.
class metrics_fanout final : public metrics {
 public:
  explicit metrics_fanout(std::vector<std::shared_ptr<metrics>> backends = {}) : backends_(std::move(backends)) {}
  void request(std::string_view route, unsigned status, std::chrono::microseconds duration) override {
    for (auto& b : backends_) b->request(route, status, duration);
  }
  void heartbeat(bool passed) override {
    for (auto& b : backends_) b->heartbeat(passed);
  }
  void check(std::string_view name, level reported, std::chrono::milliseconds duration) override {
    for (auto& b : backends_) b->check(name, reported, duration);
  }
  bool empty() const noexcept { return backends_.empty(); }

 private:
  std::vector<std::shared_ptr<metrics>> backends_;
};

}  // namespace dockerflow
