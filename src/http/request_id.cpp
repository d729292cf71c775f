#include <dockerflow/http/request_id.hpp>

#include <algorithm>

namespace dockerflow {

bool is_valid_request_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

request_id_generator::request_id_generator() {
  std::random_device entropy;
  std::seed_seq seed{entropy(), entropy(), entropy(), entropy()};
  engine_.seed(seed);
}

std::string request_id_generator::next() {
  constexpr char hex[] = "0123456789abcdef";
  std::uint64_t halves[2] = {engine_(), engine_()};
  halves[0] = (halves[0] & ~0xf000ULL) | 0x4000ULL;                          // version 4
  halves[1] = (halves[1] & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  std::string id;
  id.reserve(36);
  for (int half = 0; half < 2; ++half) {
    for (int nibble = 15; nibble >= 0; --nibble) {
      const int position = half * 16 + (15 - nibble);
      if (position == 8 || position == 12 || position == 16 || position == 20) id += '-';
      id += hex[(halves[half] >> (nibble * 4)) & 0xf];
    }
  }
  return id;
}

std::string choose_request_id(std::string_view incoming, request_id_generator& generator) {
  return is_valid_request_id(incoming) ? std::string(incoming) : generator.next();
}

}  // namespace dockerflow
