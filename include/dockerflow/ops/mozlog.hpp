#pragma once

#include <dockerflow/health/level.hpp>
#include <dockerflow/ops/log_field.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
}  // namespace spdlog

namespace dockerflow {

class batched_line_writer;

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

// The same line written directly, without building a JSON object: byte for byte what the overload
// above gives for an object holding these fields. So keys come sorted (nlohmann's objects are
// ordered maps) and of two fields with one name the first wins.
std::string render_mozlog(const mozlog_origin& origin, std::chrono::system_clock::time_point when,
                          level severity, std::string_view type, std::span<const log_field> fields);

// Writes mozlog lines through spdlog (thread-safe, level-filtered) to a sink, stdout by default.
class mozlog {
 public:
  // `writer` is the thread behind `sink` when that sink hands lines to one, kept alive with it.
  mozlog(std::shared_ptr<spdlog::logger> sink, mozlog_origin origin,
         std::shared_ptr<batched_line_writer> writer = nullptr);

  bool enabled(level severity) const noexcept;
  void log(level severity, std::string_view type, const nlohmann::json& fields) const;
  void info(std::string_view type, const nlohmann::json& fields) const { log(level::info, type, fields); }
  void warning(std::string_view type, const nlohmann::json& fields) const { log(level::warning, type, fields); }
  void error(std::string_view type, const nlohmann::json& fields) const { log(level::error, type, fields); }

  // The hot path's way to log (request.summary): the same line as log(), written without a JSON
  // object, so it costs one string and no allocation per field.
  void write(level severity, std::string_view type, std::initializer_list<log_field> fields) const;

  // Waits up to `limit` until every line logged so far has been written out. False when the writer
  // is stuck (a stdout nobody reads).
  bool written_within(std::chrono::milliseconds limit) const;

  // Lines logged but never written: the writer's buffer was full, or stdout failed.
  std::uint64_t dropped_lines() const;

 private:
  std::shared_ptr<batched_line_writer> writer_;
  std::shared_ptr<spdlog::logger> sink_;
  mozlog_origin origin_;
};

// A logger on stdout for `name` showing `minimum` and above. Lines are written by a background thread:
// a stdout nobody reads (a stalled log driver) must not stall the event loop and with it the load
// balancer's probe. Once 1 MiB of lines waits for that thread, the oldest waiting lines are dropped
// (and counted) to make room for new ones. Destroying the logger writes what waits and joins the thread, which a stuck
// stdout blocks: a process that must be able to exit then leaks it and ends with _Exit.
mozlog make_stdout_mozlog(const std::string& name, level minimum);

}  // namespace dockerflow
