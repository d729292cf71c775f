#include <dockerflow/health/check_observer.hpp>

namespace dockerflow {

result_observer observe_checks(const mozlog& log, metrics& measure) {
  return [&log, &measure](const check_observation& seen) {
    const auto now = seen.reported.worst_level();
    measure.check(seen.check, now, seen.reported.duration);
    if (!seen.changed()) return;
    auto messages = nlohmann::json::object();
    for (const auto& m : seen.reported.messages) messages[m.id] = m.text;
    const bool worse = seen.previous ? to_int(now) > to_int(*seen.previous) : now != level::ok;
    log.log(worse ? level::warning : level::info, "heartbeat.status_change",
            {{"check", seen.check},
             {"from", seen.previous ? std::string(to_string(*seen.previous)) : std::string("unknown")},
             {"to", to_string(now)},
             {"messages", std::move(messages)},
             {"duration_ms", seen.reported.duration.count()}});
  };
}

}  // namespace dockerflow
