#include <dockerflow/health/report_json_memo.hpp>

namespace dockerflow {

std::string report_json_memo::json(const heartbeat_report& report, bool with_details) {
  auto& last = last_[with_details ? 1 : 0];
  {
    const std::lock_guard lock(mutex_);
    if (last && last->report == report) return last->json;
  }
  auto json = report.to_json(with_details);  // rendered outside the lock
  const std::lock_guard lock(mutex_);
  last = rendered{report, json};
  return json;
}

}  // namespace dockerflow
