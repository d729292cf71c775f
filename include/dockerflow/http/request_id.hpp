#pragma once

#include <random>
#include <string>
#include <string_view>

namespace dockerflow {

// 1–128 characters of A-Za-z0-9._- : safe to echo in a header and to log.
bool is_valid_request_id(std::string_view id) noexcept;

// Makes random (version 4) UUIDs. One per connection-handling thread; not thread-safe.
class request_id_generator {
 public:
  request_id_generator();
  explicit request_id_generator(std::uint64_t seed) : engine_(seed) {}
  std::string next();

 private:
  std::mt19937_64 engine_;
};

// The incoming id when valid, a fresh one otherwise.
std::string choose_request_id(std::string_view incoming, request_id_generator& generator);

}  // namespace dockerflow
