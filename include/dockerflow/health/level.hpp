#pragma once

#include <optional>
#include <string_view>

namespace dockerflow {

// Numeric values match python-dockerflow so dashboards that read `level` keep working.
enum class level : int { ok = 0, debug = 10, info = 20, warning = 30, error = 40, critical = 50 };

std::string_view to_string(level l) noexcept;
std::optional<level> parse_level(std::string_view name) noexcept;

constexpr int to_int(level l) noexcept { return static_cast<int>(l); }
constexpr level worst(level a, level b) noexcept { return to_int(a) >= to_int(b) ? a : b; }
// A warning still means "serving"; only error and above fail the heartbeat.
constexpr bool is_failure(level l) noexcept { return to_int(l) >= to_int(level::error); }

}  // namespace dockerflow
