#include "support/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace dockerflow::test {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::size_t parse_size(std::string_view text, int base, const char* what) {
  std::size_t pos = 0;
  std::string copy(trim(text));
  unsigned long long value = 0;
  try {
    value = std::stoull(copy, &pos, base);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (copy.empty() || pos == 0) {
    throw std::runtime_error(std::string("bad ") + what + ": \"" + copy + "\"");
  }
  return static_cast<std::size_t>(value);
}

} // namespace

std::optional<std::string> http_response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return std::nullopt;
}

std::size_t http_response::header_count(std::string_view name) const {
  return static_cast<std::size_t>(
      std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return iequals(h.first, name); }));
}

http_connection::http_connection(std::uint16_t port, std::chrono::milliseconds connect_timeout)
    : connection_(port, connect_timeout) {}

void http_connection::send(std::string_view raw, std::chrono::milliseconds timeout) {
  connection_.send_all(raw, timeout);
}

void http_connection::fill(test_clock::time_point deadline, const char* waiting_for) {
  if (peer_closed_) {
    throw std::runtime_error(std::string("connection closed while waiting for ") + waiting_for +
                             "; received so far: " + buffer_);
  }
  switch (connection_.read_some(buffer_, deadline)) {
  case read_outcome::data:
    return;
  case read_outcome::closed:
  case read_outcome::reset:
    peer_closed_ = true;
    throw std::runtime_error(std::string("connection closed while waiting for ") + waiting_for +
                             "; received so far: " + buffer_);
  case read_outcome::timed_out:
    throw std::runtime_error(std::string("timed out waiting for ") + waiting_for +
                             "; received so far: " + buffer_);
  }
}

std::size_t http_connection::parse_head(http_response& response, std::size_t head_end) const {
  std::string_view head(buffer_.data(), head_end);
  auto line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  auto first_space = status_line.find(' ');
  if (first_space == std::string_view::npos || status_line.size() < first_space + 4) {
    throw std::runtime_error("bad status line: " + std::string(status_line));
  }
  response.version = std::string(status_line.substr(0, first_space));
  response.status = static_cast<int>(parse_size(status_line.substr(first_space + 1, 3), 10, "status"));
  auto reason_start = first_space + 4;
  response.reason = reason_start < status_line.size() ? std::string(trim(status_line.substr(reason_start))) : "";
  std::size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    auto end = head.find("\r\n", pos);
    if (end == std::string_view::npos) {
      end = head.size();
    }
    std::string_view line = head.substr(pos, end - pos);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      throw std::runtime_error("bad header line: " + std::string(line));
    }
    response.headers.emplace_back(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
    pos = end + 2;
  }
  return head_end + 4;
}

void http_connection::read_chunked(http_response& response, test_clock::time_point deadline) {
  for (;;) {
    std::size_t line_end;
    while ((line_end = buffer_.find("\r\n")) == std::string::npos) {
      fill(deadline, "chunk size");
    }
    std::string_view size_line(buffer_.data(), line_end);
    size_line = size_line.substr(0, size_line.find(';'));
    std::size_t size = parse_size(size_line, 16, "chunk size");
    buffer_.erase(0, line_end + 2);
    if (size == 0) {
      // Trailers end with an empty line.
      std::size_t end;
      while ((end = buffer_.find("\r\n")) == std::string::npos) {
        fill(deadline, "chunked trailer");
      }
      while (end != 0) {
        buffer_.erase(0, end + 2);
        while ((end = buffer_.find("\r\n")) == std::string::npos) {
          fill(deadline, "chunked trailer");
        }
      }
      buffer_.erase(0, 2);
      return;
    }
    while (buffer_.size() < size + 2) {
      fill(deadline, "chunk data");
    }
    response.body.append(buffer_, 0, size);
    buffer_.erase(0, size + 2);
  }
}

http_response http_connection::read_response(bool head, std::chrono::milliseconds timeout) {
  auto deadline = test_clock::now() + timeout;
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    fill(deadline, "response headers");
  }
  http_response response;
  std::size_t body_start = parse_head(response, head_end);
  buffer_.erase(0, body_start);

  bool no_body = head || response.status / 100 == 1 || response.status == 204 || response.status == 304;
  if (no_body) {
    return response;
  }
  auto encoding = response.header("Transfer-Encoding");
  if (encoding && iequals(trim(*encoding), "chunked")) {
    read_chunked(response, deadline);
    return response;
  }
  if (auto length = response.header("Content-Length")) {
    std::size_t size = parse_size(*length, 10, "Content-Length");
    while (buffer_.size() < size) {
      fill(deadline, "response body");
    }
    response.body = buffer_.substr(0, size);
    buffer_.erase(0, size);
    return response;
  }
  // No length: the body runs until the server closes the connection.
  if (!connection_.read_until_closed(buffer_, deadline)) {
    throw std::runtime_error("timed out waiting for a close-delimited body");
  }
  peer_closed_ = true;
  response.body = std::move(buffer_);
  buffer_.clear();
  return response;
}

bool http_connection::wait_closed(std::chrono::milliseconds timeout) {
  if (peer_closed_) {
    return true;
  }
  peer_closed_ = connection_.read_until_closed(buffer_, test_clock::now() + timeout);
  return peer_closed_;
}

std::string make_request(std::string_view method, std::string_view target, const header_list& headers) {
  std::string request;
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (const auto& [name, value] : headers) {
    request.append(name).append(": ").append(value).append("\r\n");
  }
  request.append("\r\n");
  return request;
}

http_response http_request(std::uint16_t port, std::string_view method, std::string_view target,
                           const header_list& headers, std::chrono::milliseconds timeout) {
  http_connection connection(port, timeout);
  connection.send(make_request(method, target, headers), timeout);
  return connection.read_response(method == "HEAD", timeout);
}

} // namespace dockerflow::test
