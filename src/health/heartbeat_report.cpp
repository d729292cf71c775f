#include <dockerflow/health/heartbeat_report.hpp>

#include <nlohmann/json.hpp>

namespace dockerflow {

level heartbeat_report::status() const noexcept {
  level result = level::ok;
  for (const auto& o : outcomes) result = worst(result, o.result.worst_level());
  return result;
}

unsigned heartbeat_report::http_status(unsigned failed_status) const noexcept {
  return is_failure(status()) ? failed_status : 200;
}

std::string heartbeat_report::to_json(bool with_details) const {
  auto checks = nlohmann::ordered_json::object();
  auto details = nlohmann::ordered_json::object();
  for (const auto& o : outcomes) {
    const level l = o.result.worst_level();
    auto messages = nlohmann::ordered_json::object();
    for (const auto& m : o.result.messages) messages[m.id] = m.text;
    checks[o.name] = to_string(l);
    details[o.name] = {{"status", to_string(l)},
                       {"level", to_int(l)},
                       {"messages", std::move(messages)},
                       {"duration_ms", o.result.duration.count()},
                       {"age_ms", o.result.age.count()}};
  }
  nlohmann::ordered_json body{{"status", to_string(status())}, {"checks", std::move(checks)}};
  if (with_details) body["details"] = std::move(details);
  // ordered_json keeps python-dockerflow's key order: status, checks, details.
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace dockerflow
