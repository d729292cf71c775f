// Whatever a client puts in a header, the log line stays one line of valid JSON.
#include <dockerflow/ops/mozlog.hpp>
#include <dockerflow/http/request_id.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto line = dockerflow::render_mozlog({"fuzz", "host", 1}, {}, dockerflow::level::info, input,
                                              {{"agent", input}, {"path", input}});
  if (line.find('\n') != std::string::npos || line.find('\r') != std::string::npos) std::abort();
  if (!nlohmann::json::accept(line)) std::abort();
  dockerflow::request_id_generator ids(size);
  if (!dockerflow::is_valid_request_id(dockerflow::choose_request_id(input, ids))) std::abort();
  return 0;
}
