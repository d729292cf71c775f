#pragma once

#include <dockerflow/health/level.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace dockerflow {

struct message {
  level severity = level::ok;
  std::string id;    // "<check>.E001" style, stable for alerting rules
  std::string text;  // human-readable, never contains credentials

  friend bool operator==(const message&, const message&) = default;
};

struct check_result {
  std::vector<message> messages;  // empty means "ok"
  std::chrono::milliseconds duration{0};
  std::chrono::milliseconds age{0};  // how long ago the probe behind it finished (served from the cache)

  level worst_level() const noexcept;

  friend bool operator==(const check_result&, const check_result&) = default;
};

using check_clock = std::chrono::steady_clock;

// A dependency probe. `run` may block (client libraries are synchronous); the heartbeat calls it on a
// dedicated worker thread, never on the event loop, and never twice at once for the same check.
// It should give up by `deadline` where the client library allows it; if it cannot, the heartbeat
// reports a timeout at the deadline anyway and waits for this run before starting another.
class check {
 public:
  virtual ~check() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual std::vector<message> run(check_clock::time_point deadline) = 0;
};

// Helpers so checks read like python-dockerflow's: `return {error(id, text)};`
message make_message(level severity, std::string id, std::string text);
inline message debug_message(std::string id, std::string text) { return make_message(level::debug, std::move(id), std::move(text)); }
inline message info_message(std::string id, std::string text) { return make_message(level::info, std::move(id), std::move(text)); }
inline message warning_message(std::string id, std::string text) { return make_message(level::warning, std::move(id), std::move(text)); }
inline message error_message(std::string id, std::string text) { return make_message(level::error, std::move(id), std::move(text)); }
inline message critical_message(std::string id, std::string text) { return make_message(level::critical, std::move(id), std::move(text)); }

}  // namespace dockerflow
