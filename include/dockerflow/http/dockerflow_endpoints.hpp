#pragma once

#include <dockerflow/health/heartbeat.hpp>
#include <dockerflow/http/lifecycle.hpp>
#include <dockerflow/ops/metrics.hpp>
#include <dockerflow/http/router.hpp>
#include <dockerflow/ops/version.hpp>

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace dockerflow {

// The paths the Dockerflow spec defines; DOCKERFLOW_LOG_PROBES applies to these.
inline constexpr std::array<std::string_view, 3> dockerflow_probe_paths{"/__lbheartbeat__", "/__version__",
                                                                        "/__heartbeat__"};

struct dockerflow_routes_options {
  unsigned heartbeat_failed_status = 500;
  // Set: a heartbeat without `Authorization: Bearer <token>` gets only status and checks.
  std::optional<std::string> details_token;
  bool error_endpoint = false;  // /__error__ raises an internal error on purpose
};

// Registers /__lbheartbeat__, /__version__, /__heartbeat__ (and /__error__ when asked). `version`,
// `beat`, `life` and `measure` must outlive the router. While `life` drains, /__lbheartbeat__ answers
// 503 so balancers stop sending.
void add_dockerflow_routes(router& routes, const version_info& version, heartbeat& beat, const lifecycle& life,
                           metrics& measure, const dockerflow_routes_options& options = {});

// Whether an Authorization header carries `Bearer <token>`. Takes the same time for every header of
// a given token length, so the comparison reveals nothing about how much of a guess was right.
bool bearer_token_matches(std::string_view authorization, std::string_view token) noexcept;

}  // namespace dockerflow
