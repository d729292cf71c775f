#include <dockerflow/heartbeat_round.hpp>

namespace dockerflow {

heartbeat_round::heartbeat_round(std::vector<std::string> names, std::chrono::milliseconds timeout)
    : finished_(names.size(), false), remaining_(names.size()), timeout_(timeout) {
  outcomes_.reserve(names.size());
  for (auto& n : names) outcomes_.push_back({std::move(n), {}});
}

bool heartbeat_round::complete(std::size_t index, check_result result) {
  if (index >= outcomes_.size() || finished_[index]) return false;
  outcomes_[index].result = std::move(result);
  finished_[index] = true;
  return --remaining_ == 0;
}

bool heartbeat_round::expire(std::chrono::milliseconds elapsed) {
  if (done()) return false;
  for (std::size_t i = 0; i < outcomes_.size(); ++i) {
    if (finished_[i]) continue;
    auto& outcome = outcomes_[i];
    outcome.result.messages = {error_message(outcome.name + ".E001",
                                             "timed out after " + std::to_string(timeout_.count()) + " ms")};
    outcome.result.duration = elapsed;
    finished_[i] = true;
  }
  remaining_ = 0;
  return true;
}

heartbeat_report heartbeat_round::report() const { return heartbeat_report{outcomes_}; }

}  // namespace dockerflow
