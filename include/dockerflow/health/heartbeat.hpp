#pragma once

#include <dockerflow/health/check_runner.hpp>
#include <dockerflow/health/heartbeat_report.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dockerflow {

// Runs every registered check concurrently, each bounded by the timeout, and reports once all have
// answered or the deadline passed, whichever comes first. async_run may be called from any thread
// running the executor; each round keeps its state on a strand of its own.
class heartbeat {
 public:
  using completion = std::function<void(heartbeat_report)>;

  heartbeat(boost::asio::any_io_executor executor, std::vector<std::unique_ptr<check>> checks,
            std::chrono::milliseconds timeout, health_policy policy = {}, result_observer observer = {});

  // `done` is invoked on the executor, within the timeout plus a small grace period; when every
  // selected check's result is still cached (health_policy::cache), at once, inside this call.
  // Checks named in `exclude` are neither run nor reported; unknown names are ignored.
  void async_run(completion done, const std::vector<std::string>& exclude = {});

  std::chrono::milliseconds timeout() const noexcept { return timeout_; }
  std::vector<std::string> check_names() const;

 private:
  boost::asio::any_io_executor executor_;
  std::vector<std::shared_ptr<check_runner>> runners_;
  std::chrono::milliseconds timeout_;
};

}  // namespace dockerflow
