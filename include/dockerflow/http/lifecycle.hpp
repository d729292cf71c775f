#pragma once

#include <atomic>

namespace dockerflow {

// Whether this instance is leaving its load balancer's rotation. Shared by the server (which stops
// keeping connections alive) and the routes (the balancer's probe starts failing); read on any
// event-loop thread.
class lifecycle {
 public:
  void begin_drain() noexcept { draining_.store(true, std::memory_order_relaxed); }
  bool draining() const noexcept { return draining_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> draining_{false};
};

}  // namespace dockerflow
