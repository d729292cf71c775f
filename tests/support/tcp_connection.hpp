#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace dockerflow::test {

using test_clock = std::chrono::steady_clock;

// What one read from the peer produced. Tests care about the difference between an orderly close
// (the server answered and closed), a reset, and silence.
enum class read_outcome { data, closed, reset, timed_out };

// A client TCP connection to 127.0.0.1 whose every operation is bounded by a deadline, so a server
// that hangs fails the test instead of hanging it. Non-blocking underneath; poll() supplies the waits.
class tcp_connection {
public:
  // Connects or throws std::runtime_error (refused, timed out).
  tcp_connection(std::uint16_t port, std::chrono::milliseconds timeout);
  ~tcp_connection();

  tcp_connection(tcp_connection&& other) noexcept;
  tcp_connection& operator=(tcp_connection&& other) noexcept;
  tcp_connection(const tcp_connection&) = delete;
  tcp_connection& operator=(const tcp_connection&) = delete;

  // Writes all bytes or throws (peer reset, timeout).
  void send_all(std::string_view bytes, std::chrono::milliseconds timeout);

  // Appends whatever arrives before `deadline` (at least one byte unless the outcome says otherwise).
  read_outcome read_some(std::string& into, test_clock::time_point deadline);

  // Reads and keeps everything until the peer closes or resets; false if it is still open at the
  // deadline. Lets a test assert "the server closed the connection".
  bool read_until_closed(std::string& into, test_clock::time_point deadline);

  // Closes with SO_LINGER 0, so the peer sees a reset rather than an orderly close.
  void abort();
  // Orderly close.
  void close();
  bool is_open() const noexcept { return fd_ >= 0; }
  int native_handle() const noexcept { return fd_; }

private:
  int fd_ = -1;
};

// True once something accepts TCP connections on 127.0.0.1:port, false at the deadline.
bool wait_until_accepting(std::uint16_t port, std::chrono::milliseconds timeout);

// True if a connection attempt is refused right now (nothing listens).
bool connection_refused(std::uint16_t port);

} // namespace dockerflow::test
