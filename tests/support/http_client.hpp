#pragma once

#include "support/tcp_connection.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dockerflow::test {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_response {
  std::string version; // "HTTP/1.1"
  int status = 0;
  std::string reason;
  header_list headers; // in arrival order, names as sent
  std::string body;

  // First value of a header, compared case-insensitively as HTTP requires.
  std::optional<std::string> header(std::string_view name) const;
  std::size_t header_count(std::string_view name) const;
  // The body as JSON; throws nlohmann::json::parse_error when it is not.
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

// A deliberately small HTTP/1.1 client that writes exactly the bytes a test gives it, so tests can
// send malformed, pipelined, oversized or partial requests that a real client library would refuse.
class http_connection {
public:
  explicit http_connection(std::uint16_t port,
                           std::chrono::milliseconds connect_timeout = std::chrono::seconds(5));

  void send(std::string_view raw, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Reads one response. `head` says the request was HEAD, whose response has headers but never a
  // body even when Content-Length is present. Throws std::runtime_error on timeout, or when the
  // server closes before a whole response arrived.
  http_response read_response(bool head = false,
                              std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // True if the server closes (or resets) the connection before the deadline; bytes that arrive
  // first are kept in unread().
  bool wait_closed(std::chrono::milliseconds timeout);

  // Bytes received but not consumed by read_response (e.g. a body sent after a HEAD response).
  const std::string& unread() const noexcept { return buffer_; }
  tcp_connection& socket() noexcept { return connection_; }

private:
  // Reads more bytes into buffer_; throws if the deadline passes or the server closes first.
  void fill(test_clock::time_point deadline, const char* waiting_for);
  std::size_t parse_head(http_response& response, std::size_t head_end) const;
  void read_chunked(http_response& response, test_clock::time_point deadline);

  tcp_connection connection_;
  std::string buffer_;
  bool peer_closed_ = false;
};

// A well-formed request: request line, Host, the given headers, blank line.
std::string make_request(std::string_view method, std::string_view target, const header_list& headers = {});

// One request on a fresh connection.
http_response http_request(std::uint16_t port, std::string_view method, std::string_view target,
                           const header_list& headers = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(5));
inline http_response http_get(std::uint16_t port, std::string_view target, const header_list& headers = {},
                              std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  return http_request(port, "GET", target, headers, timeout);
}

} // namespace dockerflow::test
