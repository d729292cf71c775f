// Whatever a client puts in a header, the log line stays one line of valid JSON, and the direct
// renderer (mozlog::write's) writes exactly the bytes nlohmann::json writes for the same fields.
#include <dockerflow/ops/mozlog.hpp>
#include <dockerflow/http/request_id.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

// The input cut in three at its first two NUL bytes: a field value, a field name, the origin's names.
std::array<std::string_view, 3> parts_of(std::string_view input) {
  std::array<std::string_view, 3> parts{input, "name", "fuzz"};
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    const auto cut = parts[i].find('\0');
    if (cut == std::string_view::npos) break;
    parts[i + 1] = parts[i].substr(cut + 1);
    parts[i] = parts[i].substr(0, cut);
  }
  return parts;
}

void check_direct_renderer(std::string_view input) {
  const auto [value, name, who] = parts_of(input);
  const dockerflow::mozlog_origin origin{std::string(who), std::string(value), static_cast<std::int64_t>(input.size())};
  const std::chrono::system_clock::time_point when(std::chrono::microseconds(static_cast<std::int64_t>(input.size()) * 977));
  const std::array<dockerflow::log_field, 4> fields{{{"agent", value},
                                                     {name, static_cast<std::int64_t>(input.size()) - 100},
                                                     {"path", name},
                                                     {value, who}}};
  auto object = nlohmann::json::object();  // emplace keeps the first of equal keys, as the direct renderer does
  object.emplace("agent", std::string(value));
  object.emplace(std::string(name), static_cast<std::int64_t>(input.size()) - 100);
  object.emplace("path", std::string(name));
  object.emplace(std::string(value), std::string(who));
  const auto direct = dockerflow::render_mozlog(origin, when, dockerflow::level::error, input, fields);
  const auto through_json = dockerflow::render_mozlog(origin, when, dockerflow::level::error, input, object);
  if (direct != through_json) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto line = dockerflow::render_mozlog({"fuzz", "host", 1}, {}, dockerflow::level::info, input,
                                              {{"agent", input}, {"path", input}});
  if (line.find('\n') != std::string::npos || line.find('\r') != std::string::npos) std::abort();
  if (!nlohmann::json::accept(line)) std::abort();
  check_direct_renderer(input);
  dockerflow::request_id_generator ids(size);
  if (!dockerflow::is_valid_request_id(dockerflow::choose_request_id(input, ids))) std::abort();
  return 0;
}
