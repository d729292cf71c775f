// Any environment must yield a config or a config_error naming the variable — never a crash — and a
// password in a URL must never appear in the error.
#include <dockerflow/ops/config.hpp>
#include <dockerflow/ops/redact.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  static const char* const names[] = {"PORT", "HOST", "DATABASE_URL", "REDIS_URL", "DOCKERFLOW_CHECK_TIMEOUT_MS",
                                      "DOCKERFLOW_HEARTBEAT_FAILED_STATUS_CODE", "LOG_LEVEL", "LOGGER_NAME"};
  for (const char* name : names) {
    try {
      dockerflow::parse_config({{name, input}});
    } catch (const dockerflow::config_error& e) {
      if (std::string(e.what()).find(name) == std::string::npos) std::abort();
    }
  }
  const std::string url = "redis://:s3cr3t-" + input + "@host:1/0";
  try {
    dockerflow::parse_redis_url(url);
  } catch (const dockerflow::config_error& e) {
    if (std::string(e.what()).find("s3cr3t-") != std::string::npos) std::abort();
  }
  (void)dockerflow::redact_url(input);
  return 0;
}
