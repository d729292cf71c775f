#pragma once

#include <dockerflow/health/level.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
namespace details { class thread_pool; }
}  // namespace spdlog

namespace dockerflow {

// The fields every mozlog line repeats.
struct mozlog_origin {
  std::string logger;    // "Logger"
  std::string hostname;  // "Hostname"
  std::int64_t pid = 0;  // "Pid"
};

// Syslog severity for mozlog's "Severity": critical 2, error 3, warning 4, info 6, debug 7.
int syslog_severity(level l) noexcept;

// One mozlog line (no newline). Strings are JSON-escaped and invalid UTF-8 is replaced, so nothing
// a client sends can break a line or forge another.
std::string render_mozlog(const mozlog_origin& origin, std::chrono::system_clock::time_point when,
                          level severity, std::string_view type, const nlohmann::json& fields);

// Writes mozlog lines through spdlog (thread-safe, level-filtered) to a sink, stdout by default.
class mozlog {
 public:
  // `writer` is the thread behind an asynchronous `sink`, kept alive (and joined, after draining) with it.
  mozlog(std::shared_ptr<spdlog::logger> sink, mozlog_origin origin,
         std::shared_ptr<spdlog::details::thread_pool> writer = nullptr);

  bool enabled(level severity) const noexcept;
  void log(level severity, std::string_view type, const nlohmann::json& fields) const;
  void info(std::string_view type, const nlohmann::json& fields) const { log(level::info, type, fields); }
  void warning(std::string_view type, const nlohmann::json& fields) const { log(level::warning, type, fields); }
  void error(std::string_view type, const nlohmann::json& fields) const { log(level::error, type, fields); }

  // Waits up to `limit` until every line logged so far has been written out. False when the writer
  // is stuck (a stdout nobody reads): then the lines still queued are lost, and the writer must not
  // be joined, or the process could never exit.
  bool written_within(std::chrono::milliseconds limit) const;

 private:
  std::shared_ptr<spdlog::details::thread_pool> writer_;  // declared first: destroyed last
  std::shared_ptr<spdlog::logger> sink_;
  mozlog_origin origin_;
};

// A logger on stdout for `name` showing `minimum` and above. Lines are written by a background thread:
// a stdout nobody reads (a stalled log driver) must not stall the event loop and with it the load
// balancer's probe. If that thread falls 8192 lines behind, the oldest waiting lines are dropped.
mozlog make_stdout_mozlog(const std::string& name, level minimum);

}  // namespace dockerflow
