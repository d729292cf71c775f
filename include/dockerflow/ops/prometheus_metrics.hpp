#pragma once

#include <dockerflow/ops/metrics.hpp>
#include <dockerflow/http/router.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace dockerflow {

// The Prometheus text exposition format (version 0.0.4), as /metrics serves it.
inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

// Counters and gauges kept in memory and rendered on each scrape:
//   dockerflow_requests_total{route,code}                  counter
//   dockerflow_request_duration_seconds{route,code}        histogram (_bucket{le}, _sum, _count)
//   dockerflow_heartbeats_total{result="pass"|"fail"}      counter
//   dockerflow_check_level{check}                          gauge: the last result's level, 0..50
//   dockerflow_check_duration_seconds{check}               gauge: the last probe's duration
//   dockerflow_check_results_total{check,status}           counter, status a level name
//   dockerflow_log_lines_dropped_total                     counter, when given a source
// Routes and check names come from the service, never from clients ("other" covers unknown paths),
// so the number of series stays bounded.
class prometheus_metrics final : public metrics {
 public:
  // Upper bounds of the request duration histogram, in seconds (+Inf is implied).
  static constexpr std::array<double, 8> duration_buckets{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};

  // `log_lines_dropped`, when given, is read at each scrape: the log lines dropped because stdout
  // could not take them, which the log itself can only show as a gap.
  explicit prometheus_metrics(std::function<std::uint64_t()> log_lines_dropped = {});

  void request(std::string_view route, unsigned status, std::chrono::microseconds duration) override;
  void heartbeat(bool passed) override;
  void check(std::string_view name, level reported, std::chrono::milliseconds duration) override;

  std::string render() const;

 private:
  struct request_series {
    std::array<std::uint64_t, duration_buckets.size() + 1> in_bucket{};  // not cumulative; last is +Inf
    std::uint64_t count = 0;
    std::uint64_t micros = 0;  // integral, so the sum never loses small durations to rounding
  };
  struct check_series {
    level last = level::ok;
    std::chrono::milliseconds last_duration{0};
    std::array<std::uint64_t, 6> results{};  // by level, in level order
  };

  void render_requests(std::string& out) const;
  void render_checks(std::string& out) const;

  std::function<std::uint64_t()> log_lines_dropped_;
  mutable std::mutex mutex_;
  std::map<std::string, std::map<unsigned, request_series>, std::less<>> requests_;  // route → code
  std::uint64_t heartbeats_passed_ = 0;
  std::uint64_t heartbeats_failed_ = 0;
  std::map<std::string, check_series, std::less<>> checks_;
};

// GET /metrics on `routes`, for the metrics port only. `registry` must outlive `routes`.
void add_metrics_routes(router& routes, const prometheus_metrics& registry);

}  // namespace dockerflow
