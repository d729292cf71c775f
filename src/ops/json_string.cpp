#include <dockerflow/ops/json_string.hpp>

#include <array>
#include <cstdint>

namespace dockerflow {
namespace {

// Björn Höhrmann's UTF-8 decoder (a DFA), with the same table as nlohmann::json's serializer:
// where a sequence is cut, and so where U+FFFD goes, follows from it.
constexpr std::uint8_t utf8_accept = 0;
constexpr std::uint8_t utf8_reject = 1;

constexpr std::array<std::uint8_t, 400> utf8d = {{
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 00..1F
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 20..3F
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 40..5F
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 60..7F
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, // 80..9F
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // A0..BF
    8, 8, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, // C0..DF
    0xA, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x3, 0x4, 0x3, 0x3, // E0..EF
    0xB, 0x6, 0x6, 0x6, 0x5, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, 0x8, // F0..FF
    0x0, 0x1, 0x2, 0x3, 0x5, 0x8, 0x7, 0x1, 0x1, 0x1, 0x4, 0x6, 0x1, 0x1, 0x1, 0x1, // s0..s0
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, // s1..s2
    1, 2, 1, 1, 1, 1, 1, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, // s3..s4
    1, 2, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 3, 1, 1, 1, 1, 1, 1, // s5..s6
    1, 3, 1, 1, 1, 1, 1, 3, 1, 3, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 // s7..s8
}};

std::uint8_t decode(std::uint8_t& state, std::uint32_t& codepoint, std::uint8_t byte) noexcept {
  const std::uint8_t type = utf8d[byte];
  codepoint = state != utf8_accept ? (byte & 0x3fu) | (codepoint << 6u) : (0xffu >> type) & byte;
  state = utf8d[256u + state * 16u + type];
  return state;
}

constexpr std::string_view replacement = "\xEF\xBF\xBD";

// Bytes copied as they are: the common case, taken in runs.
constexpr bool plain(unsigned char c) noexcept { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

void append_ascii(std::string& out, char c) {
  switch (c) {
    case '\b': out += "\\b"; return;
    case '\t': out += "\\t"; return;
    case '\n': out += "\\n"; return;
    case '\f': out += "\\f"; return;
    case '\r': out += "\\r"; return;
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    default: break;
  }
  if (static_cast<unsigned char>(c) >= 0x20) {
    out += c;
    return;
  }
  constexpr std::string_view hex = "0123456789abcdef";
  const char escape[] = {'\\', 'u', '0', '0', hex[(c >> 4) & 0xf], hex[c & 0xf]};
  out.append(escape, sizeof escape);
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  std::uint8_t state = utf8_accept;
  std::uint32_t codepoint = 0;
  std::size_t accepted = out.size();  // out's size after the last complete code point
  bool inside_sequence = false;       // bytes of an unfinished sequence were copied since then
  std::size_t i = 0;
  while (i < text.size()) {
    if (state == utf8_accept && plain(static_cast<unsigned char>(text[i]))) {
      const auto start = i;
      while (i < text.size() && plain(static_cast<unsigned char>(text[i]))) ++i;
      out.append(text.data() + start, i - start);
      accepted = out.size();
      continue;
    }
    const auto byte = static_cast<std::uint8_t>(text[i]);
    switch (decode(state, codepoint, byte)) {
      case utf8_accept:
        if (codepoint < 0x80) {
          append_ascii(out, text[i]);
        } else {
          out += text[i];  // the sequence's last byte; the others were copied already
        }
        accepted = out.size();
        inside_sequence = false;
        ++i;
        break;
      case utf8_reject:
        // A byte that breaks a sequence may start a valid one: read it again (as nlohmann does).
        if (!inside_sequence) ++i;
        out.resize(accepted);
        out += replacement;
        accepted = out.size();
        inside_sequence = false;
        state = utf8_accept;
        break;
      default:
        out += text[i];
        inside_sequence = true;
        ++i;
        break;
    }
  }
  if (state != utf8_accept) {
    out.resize(accepted);
    out += replacement;
  }
  out += '"';
}

}  // namespace dockerflow
