#pragma once

#include <dockerflow/health/heartbeat_report.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace dockerflow {

// One heartbeat request's bookkeeping: results arrive in any order; at the deadline the missing ones
// become timeouts. Pure logic with time passed in, so deadline behaviour is tested without sleeping.
class heartbeat_round {
 public:
  heartbeat_round(std::vector<std::string> names, std::chrono::milliseconds timeout);

  // Returns true when this result completed the round. Late results (after expiry) are ignored.
  bool complete(std::size_t index, check_result result);
  // Marks every unfinished check as timed out after `elapsed`. Returns true if it finished the round.
  bool expire(std::chrono::milliseconds elapsed);
  // Completes every unfinished check with what `give_up(index)` returns (the check runner records the
  // timeout and applies its policy). Returns true if it finished the round.
  bool expire(const std::function<check_result(std::size_t)>& give_up);

  bool done() const noexcept { return remaining_ == 0; }
  const std::string& name(std::size_t index) const { return outcomes_.at(index).name; }
  // The result of a check that did not answer in time.
  static check_result timed_out(const std::string& name, std::chrono::milliseconds timeout,
                                std::chrono::milliseconds elapsed);
  heartbeat_report report() const;

 private:
  std::vector<check_outcome> outcomes_;
  std::vector<bool> finished_;
  std::size_t remaining_;
  std::chrono::milliseconds timeout_;
};

}  // namespace dockerflow
