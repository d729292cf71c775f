#pragma once

#include <cstdint>
#include <string_view>
#include <variant>

namespace dockerflow {

// One field of a mozlog line's "Fields", for the allocation-free path (mozlog::write). It only
// refers to its name and text: both must outlive the call that writes the line.
// Any integer up to 32 bits converts without a cast; 64-bit unsigned values need one, because the
// conversion to std::int64_t could narrow.
struct log_field {
  std::string_view name;
  std::variant<std::string_view, std::int64_t> value;  // text is escaped; integers written as is
};

}  // namespace dockerflow
