#pragma once

#include <string>
#include <string_view>

namespace dockerflow {

// Appends `text` to `out` as a JSON string, quotes included, byte for byte as nlohmann::json's
// dump(-1, ' ', false, error_handler_t::replace) writes it: the mozlog lines written directly must
// not differ from the ones built as JSON objects. So: ", \ and \b \f \n \r \t get short escapes,
// other control bytes \u00xx (lowercase hex), '/' and DEL stay as they are, valid UTF-8 is copied,
// and each invalid sequence becomes U+FFFD the way nlohmann's replace handler cuts it.
void append_json_string(std::string& out, std::string_view text);

}  // namespace dockerflow
