#pragma once

#include <dockerflow/health/check.hpp>

#include <string>
#include <vector>

namespace dockerflow {

struct check_outcome {
  std::string name;
  check_result result;

  friend bool operator==(const check_outcome&, const check_outcome&) = default;
};

struct heartbeat_report {
  std::vector<check_outcome> outcomes;  // in registration order

  level status() const noexcept;  // the worst level of all checks; ok when there are none
  // 200 while serving (below error), otherwise the configured failure code (500 or e.g. 503).
  unsigned http_status(unsigned failed_status) const noexcept;
  // python-dockerflow's shape: {"status", "checks": {name: status}, "details": {name: {...}}}. Without
  // details only {"status", "checks"}: message texts name hosts, users and databases.
  std::string to_json(bool with_details = true) const;

  friend bool operator==(const heartbeat_report&, const heartbeat_report&) = default;
};

}  // namespace dockerflow
