#pragma once

#include <dockerflow/heartbeat.hpp>
#include <dockerflow/lifecycle.hpp>
#include <dockerflow/router.hpp>
#include <dockerflow/version.hpp>

namespace dockerflow {

// Registers /__lbheartbeat__, /__version__ and /__heartbeat__. `version`, `beat` and `life` must
// outlive the router. While `life` drains, /__lbheartbeat__ answers 503 so balancers stop sending.
void add_dockerflow_routes(router& routes, const version_info& version, heartbeat& beat,
                           unsigned heartbeat_failed_status, const lifecycle& life);

}  // namespace dockerflow
