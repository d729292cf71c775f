#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace dockerflow {

// The container HEALTHCHECK: GET /__lbheartbeat__ on the local port, true on a 200.
// No curl in the image, so the binary probes itself.
bool probe_lbheartbeat(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout);

}  // namespace dockerflow
