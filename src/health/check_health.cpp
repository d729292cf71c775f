#include <dockerflow/health/check_health.hpp>

#include <algorithm>

namespace dockerflow {
namespace {

std::chrono::milliseconds since(check_clock::time_point then, check_clock::time_point now) {
  return now > then ? std::chrono::duration_cast<std::chrono::milliseconds>(now - then) : std::chrono::milliseconds(0);
}

// One lost packet should neither page anyone nor flap a balancer: below the tolerance a failure is
// shown (same ids, same texts) at warning level.
void tolerate(check_result& result) {
  for (auto& m : result.messages)
    if (is_failure(m.severity)) m.severity = level::warning;
}

}  // namespace

std::optional<check_result> check_health::fresh(check_clock::time_point now) const {
  if (!recorded_ || policy_.cache.count() <= 0 || since(*recorded_, now) >= policy_.cache) return std::nullopt;
  return last(now);
}

check_health::recording check_health::record(check_result raw, check_clock::time_point now) {
  std::erase_if(raw.messages, [&](const message& m) {
    return std::find(policy_.silenced.begin(), policy_.silenced.end(), m.id) != policy_.silenced.end();
  });
  const bool failed = is_failure(raw.worst_level());
  consecutive_failures_ = failed ? consecutive_failures_ + 1 : 0;
  if (failed && consecutive_failures_ < policy_.failures_before_error) tolerate(raw);
  if (!failed && policy_.warn_after && raw.duration > *policy_.warn_after)
    raw.messages.push_back(warning_message(name_ + ".W001", "took " + std::to_string(raw.duration.count()) +
                                                                " ms, over the " +
                                                                std::to_string(policy_.warn_after->count()) +
                                                                " ms of DOCKERFLOW_CHECK_WARN_MS"));
  raw.age = std::chrono::milliseconds(0);
  std::optional<level> previous;
  if (recorded_) previous = last_.worst_level();
  last_ = raw;
  recorded_ = now;
  return {std::move(raw), previous};
}

check_result check_health::last(check_clock::time_point now) const {
  check_result result = last_;
  if (recorded_) result.age = since(*recorded_, now);
  return result;
}

}  // namespace dockerflow
