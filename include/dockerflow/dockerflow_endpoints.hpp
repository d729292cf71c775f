#pragma once

#include <dockerflow/heartbeat.hpp>
#include <dockerflow/router.hpp>
#include <dockerflow/version.hpp>

namespace dockerflow {

// Registers /__lbheartbeat__, /__version__ and /__heartbeat__. `version` and `beat` must outlive the router.
void add_dockerflow_routes(router& routes, const version_info& version, heartbeat& beat,
                           unsigned heartbeat_failed_status);

}  // namespace dockerflow
