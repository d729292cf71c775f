#include <dockerflow/health/check.hpp>

namespace dockerflow {

level check_result::worst_level() const noexcept {
  level result = level::ok;
  for (const auto& m : messages) result = worst(result, m.severity);
  return result;
}

message make_message(level severity, std::string id, std::string text) {
  return message{severity, std::move(id), std::move(text)};
}

}  // namespace dockerflow
