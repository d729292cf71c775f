// Any bytes must be accepted as a version object or refused with version_error; accepted bytes are kept verbatim.
#include <dockerflow/ops/version.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  try {
    if (dockerflow::parse_version(input).raw != input) std::abort();
  } catch (const dockerflow::version_error&) {
  }
  return 0;
}
