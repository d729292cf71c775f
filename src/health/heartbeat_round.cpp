#include <dockerflow/health/heartbeat_round.hpp>

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

check_result heartbeat_round::timed_out(const std::string& name, std::chrono::milliseconds timeout,
                                        std::chrono::milliseconds elapsed) {
  return check_result{{error_message(name + ".E001", "timed out after " + std::to_string(timeout.count()) + " ms")},
                      elapsed};
}

bool heartbeat_round::expire(std::chrono::milliseconds elapsed) {
  return expire([&](std::size_t i) { return timed_out(outcomes_[i].name, timeout_, elapsed); });
}

bool heartbeat_round::expire(const std::function<check_result(std::size_t)>& give_up) {
  if (done()) return false;
  for (std::size_t i = 0; i < outcomes_.size(); ++i) {
    if (finished_[i]) continue;
    outcomes_[i].result = give_up(i);
    finished_[i] = true;
  }
  remaining_ = 0;
  return true;
}

heartbeat_report heartbeat_round::report() const { return heartbeat_report{outcomes_}; }

}  // namespace dockerflow
