#include "support/log_reader.hpp"

namespace dockerflow::test {

std::vector<nlohmann::json> parsed_log::of_type(std::string_view type) const {
  std::vector<nlohmann::json> found;
  for (const auto& entry : entries) {
    auto it = entry.find("Type");
    if (it != entry.end() && it->is_string() && it->get<std::string>() == type) {
      found.push_back(entry);
    }
  }
  return found;
}

std::optional<nlohmann::json> parsed_log::summary_for(std::string_view rid) const {
  for (const auto& entry : of_type("request.summary")) {
    const auto fields = entry.find("Fields");
    if (fields == entry.end() || !fields->is_object()) {
      continue;
    }
    auto it = fields->find("rid");
    if (it != fields->end() && it->is_string() && it->get<std::string>() == rid) {
      return entry;
    }
  }
  return std::nullopt;
}

parsed_log parse_log(const std::vector<std::string>& lines) {
  parsed_log log;
  for (const auto& line : lines) {
    // Strict parsing: invalid UTF-8 or trailing garbage makes the line invalid.
    auto value = nlohmann::json::parse(line, nullptr, false);
    if (value.is_discarded() || !value.is_object()) {
      log.invalid_lines.push_back(line);
    } else {
      log.entries.push_back(std::move(value));
    }
  }
  return log;
}

} // namespace dockerflow::test
