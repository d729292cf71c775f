#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockerflow::test {

// The app's stdout split into mozlog entries. A line that is not a JSON object is kept apart
// rather than skipped, because such a line is itself a failure (a forged or broken log line).
struct parsed_log {
  std::vector<nlohmann::json> entries;
  std::vector<std::string> invalid_lines;

  std::vector<nlohmann::json> of_type(std::string_view type) const;
  // The request.summary entry whose Fields.rid equals `rid`, if it was logged yet.
  std::optional<nlohmann::json> summary_for(std::string_view rid) const;
};

parsed_log parse_log(const std::vector<std::string>& lines);

} // namespace dockerflow::test
