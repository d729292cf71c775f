#include <dockerflow/http/response_head.hpp>

#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <iterator>

namespace dockerflow {
namespace {

bool same_name(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c; };
           return lower(x) == lower(y);
         });
}

bool server_owned(std::string_view name) noexcept {
  constexpr std::array<std::string_view, 5> owned{"X-Content-Type-Options", "X-Request-ID", "Connection",
                                                  "Content-Length", "Transfer-Encoding"};
  return std::any_of(owned.begin(), owned.end(), [name](std::string_view o) { return same_name(name, o); });
}

// A plain loop: find_first_of would search the three-character set once for every character.
bool splits_lines(std::string_view text) noexcept {
  return std::any_of(text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool valid_handler_header(std::string_view name, std::string_view value) noexcept {
  return !name.empty() && !server_owned(name) && !splits_lines(name) && !splits_lines(value);
}

// Whether a header named `name` goes out from `first` on: a later header replaces an earlier one.
bool sent_from(const http_response& response, std::size_t first, std::string_view name) {
  const auto& headers = response.headers;
  return std::any_of(headers.begin() + static_cast<std::ptrdiff_t>(first), headers.end(), [name](const auto& h) {
    return same_name(h.first, name) && valid_handler_header(h.first, h.second);
  });
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void append_number(std::string& out, std::size_t n) {
  std::array<char, 24> digits;
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), n).ptr;
  out.append(digits.data(), end);
}

}  // namespace

bool status_allows_body(unsigned status) noexcept { return status >= 200 && status != 204 && status != 304; }

void render_response_head(const http_response& response, const response_framing& framing, std::string& out) {
  out.append(framing.version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_number(out, response.status);
  out.push_back(' ');
  out.append(boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(response.status)));
  out.append("\r\n");
  if (!response.content_type.empty() && !splits_lines(response.content_type) &&
      !sent_from(response, 0, "Content-Type"))
    append_header(out, "Content-Type", response.content_type);
  for (std::size_t i = 0; i < response.headers.size(); ++i) {
    const auto& [name, value] = response.headers[i];
    if (valid_handler_header(name, value) && !sent_from(response, i + 1, name)) append_header(out, name, value);
  }
  append_header(out, "X-Content-Type-Options", "nosniff");
  if (!framing.request_id.empty()) append_header(out, "X-Request-ID", framing.request_id);
  // HTTP/1.1 keeps connections open unless told; HTTP/1.0 closes them unless told.
  if (framing.version == 10 && framing.keep_alive) append_header(out, "Connection", "keep-alive");
  if (framing.version != 10 && !framing.keep_alive) append_header(out, "Connection", "close");
  if (status_allows_body(response.status)) {
    out.append("Content-Length: ");
    append_number(out, response.body.size());
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace dockerflow
