#include <dockerflow/health/level.hpp>

#include <array>
#include <utility>

namespace dockerflow {
namespace {

constexpr std::array<std::pair<level, std::string_view>, 6> names{{
    {level::ok, "ok"},
    {level::debug, "debug"},
    {level::info, "info"},
    {level::warning, "warning"},
    {level::error, "error"},
    {level::critical, "critical"},
}};

}  // namespace

std::string_view to_string(level l) noexcept {
  for (const auto& [value, name] : names)
    if (value == l) return name;
  return "unknown";
}

std::optional<level> parse_level(std::string_view name) noexcept {
  for (const auto& [value, text] : names)
    if (text == name) return value;
  return std::nullopt;
}

}  // namespace dockerflow
