#pragma once

#include <dockerflow/http/router.hpp>

#include <string>
#include <string_view>

namespace dockerflow {

// What the answer's head needs to know about the request it answers.
struct response_framing {
  unsigned version = 11;        // 10 or 11, as the request said
  bool keep_alive = true;       // false: the connection closes after this answer
  std::string_view request_id;  // echoed as X-Request-ID when not empty
};

// Appends the status line and header block of `response` (ending with the empty line) to `out`,
// which callers reuse from answer to answer. The order is fixed: Content-Type, the handler's
// headers, X-Content-Type-Options, X-Request-ID, Connection, Content-Length. Of headers with the same
// name (compared case-insensitively) the last one counts, so a handler's Content-Type header wins
// over `content_type`. The server's own headers (X-Content-Type-Options, X-Request-ID, Connection,
// Content-Length, Transfer-Encoding) cannot be set by a handler, and a header whose name or value
// holds CR, LF or NUL is left out: no handler can split a response.
void render_response_head(const http_response& response, const response_framing& framing, std::string& out);

// Whether answers with this status carry a body (and so a Content-Length): not 1xx, 204 or 304.
bool status_allows_body(unsigned status) noexcept;

}  // namespace dockerflow
