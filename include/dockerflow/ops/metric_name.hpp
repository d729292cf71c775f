#pragma once

#include <string>
#include <string_view>

namespace dockerflow {

// A route or check name as one segment of a dotted statsd name: "/__lbheartbeat__" → "lbheartbeat",
// "/api/v1" → "api_v1", "/" → "root". Leading slashes and surrounding underscores go (Dockerflow's
// paths would otherwise all read "__x__"); anything outside [A-Za-z0-9_-] becomes '_', so a dot in a
// name can never add a level to the statsd hierarchy and no byte can break the line format.
std::string metric_name(std::string_view route_or_check);

}  // namespace dockerflow
