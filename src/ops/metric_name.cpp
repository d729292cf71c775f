#include <dockerflow/ops/metric_name.hpp>

#include <algorithm>

namespace dockerflow {
namespace {

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

std::string metric_name(std::string_view route_or_check) {
  auto name = route_or_check;
  name.remove_prefix(std::min(name.find_first_not_of('/'), name.size()));
  name.remove_prefix(std::min(name.find_first_not_of('_'), name.size()));
  name.remove_suffix(name.size() - std::min(name.find_last_not_of('_') + 1, name.size()));
  if (name.empty()) return "root";
  std::string safe(name);
  for (auto& c : safe)
    if (!is_name_char(c)) c = '_';
  return safe;
}

}  // namespace dockerflow
