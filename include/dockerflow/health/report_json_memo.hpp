#pragma once

#include <dockerflow/health/heartbeat_report.hpp>

#include <mutex>
#include <optional>
#include <string>

namespace dockerflow {

// A heartbeat report's JSON, rendered once for as long as the report stays the same. With the cache
// on, a flood of heartbeats gets one report per millisecond of result age, and comparing a report
// costs a fraction of rendering it. Thread-safe.
class report_json_memo {
 public:
  std::string json(const heartbeat_report& report, bool with_details);

 private:
  struct rendered {
    heartbeat_report report;
    std::string json;
  };
  std::mutex mutex_;
  std::optional<rendered> last_[2];  // without and with details
};

}  // namespace dockerflow
