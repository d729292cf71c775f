#pragma once

#include <dockerflow/health/check.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace dockerflow {

struct health_policy {
  std::chrono::milliseconds cache{0};  // reuse the last result this long; 0: only share a probe in flight
  unsigned failures_before_error = 1;  // consecutive failed probes before a failure reports `error`
  std::optional<std::chrono::milliseconds> warn_after;  // a slower probe reports `<check>.W001`
  std::vector<std::string> silenced;  // message ids to drop, as python-dockerflow's silenced_checks
};

// A recorded result as its observers see it.
struct check_observation {
  std::string_view check;
  const check_result& reported;
  std::optional<level> previous;  // the level reported before; nullopt for the first result
  bool changed() const noexcept { return !previous || *previous != reported.worst_level(); }
};

// One check's memory between probes: the last result (for the cache), the run of consecutive failures
// (for tolerance) and the last reported level (for status changes). Pure logic with time passed in,
// so cache ages and tolerance are tested without sleeping; the check runner holds it under its lock.
class check_health {
 public:
  check_health(std::string name, health_policy policy) : name_(std::move(name)), policy_(policy) {}

  // The last result while it is younger than the cache, with its age.
  std::optional<check_result> fresh(check_clock::time_point now) const;
  // Whether a result was recorded at or after `t`: a request that started before it and gave up
  // waiting has been answered by that result and counts no failure of its own.
  bool recorded_since(check_clock::time_point t) const noexcept { return recorded_ && *recorded_ >= t; }

  struct recording {
    check_result reported;
    std::optional<level> previous;
  };
  // A probe finished, or a request gave up waiting for it at its deadline. Failures below the
  // tolerance report `warning` (messages kept); a slow success reports `<check>.W001`.
  recording record(check_result raw, check_clock::time_point now);
  // The last reported result with its age; ok and empty before the first.
  check_result last(check_clock::time_point now) const;

 private:
  std::string name_;
  health_policy policy_;
  check_result last_;
  std::optional<check_clock::time_point> recorded_;
  unsigned consecutive_failures_ = 0;
};

}  // namespace dockerflow
