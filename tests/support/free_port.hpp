#pragma once

#include <cstdint>

namespace dockerflow::test {

// A TCP port on 127.0.0.1 that nothing listens on right now: the kernel picks it when binding to
// port 0. Each call in this process returns a different port, so two servers started by one test
// never race for the same number. Also useful as an address where connections are refused.
std::uint16_t free_port();

} // namespace dockerflow::test
