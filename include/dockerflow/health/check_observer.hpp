#pragma once

#include <dockerflow/health/check_runner.hpp>
#include <dockerflow/ops/metrics.hpp>
#include <dockerflow/ops/mozlog.hpp>

namespace dockerflow {

// What the service does with every recorded check result: measures it, and when the check's level
// changed writes one `heartbeat.status_change` line (warning when it got worse, info when better; the
// first result counts as a change from "unknown"). Operators then see incidents in the log without
// a line per probe. `log` and `measure` must outlive the checks.
result_observer observe_checks(const mozlog& log, metrics& measure);

}  // namespace dockerflow
