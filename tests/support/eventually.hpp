#pragma once

#include <chrono>
#include <thread>

namespace dockerflow::test {

// Polls `condition` until it holds or `timeout` passes. Tests wait for real processes (a server
// recovering, a log line being flushed) with this instead of sleeping a guessed time: it returns
// as soon as the condition holds and fails loudly when it never does.
template <typename Condition>
bool eventually(std::chrono::milliseconds timeout, Condition condition,
                std::chrono::milliseconds interval = std::chrono::milliseconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(interval);
  }
}

} // namespace dockerflow::test
