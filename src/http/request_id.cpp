#include <dockerflow/http/request_id.hpp>

#include <algorithm>
#include <array>
#include <cstdint>

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
  // 8-4-4-4-12 hex digits, most significant first; each half fills its positions right to left.
  constexpr std::array<std::array<std::uint8_t, 16>, 2> positions{{
      {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 14, 15, 16, 17},
      {19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35},
  }};
  std::string id(36, '-');
  for (std::size_t half = 0; half < 2; ++half) {
    auto bits = halves[half];
    for (std::size_t digit = 16; digit-- > 0; bits >>= 4) id[positions[half][digit]] = hex[bits & 0xf];
  }
  return id;
}

std::string choose_request_id(std::string_view incoming, request_id_generator& generator) {
  return is_valid_request_id(incoming) ? std::string(incoming) : generator.next();
}

}  // namespace dockerflow
