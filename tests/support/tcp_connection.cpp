#include "support/tcp_connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

namespace dockerflow::test {
namespace {

int remaining_ms(test_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - test_clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 60'000));
}

// Waits for `events` on fd; false at the deadline.
bool wait_ready(int fd, short events, test_clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, remaining_ms(deadline));
    if (r > 0) {
      return true;
    }
    if (r == 0) {
      if (test_clock::now() >= deadline) {
        return false;
      }
      continue;
    }
    if (errno != EINTR) {
      throw std::system_error(errno, std::generic_category(), "poll");
    }
  }
}

} // namespace

tcp_connection::tcp_connection(std::uint16_t port, std::chrono::milliseconds timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "socket");
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  auto deadline = test_clock::now() + timeout;
  int r = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int error = r == 0 ? 0 : errno;
  if (error == EINPROGRESS) {
    if (!wait_ready(fd_, POLLOUT, deadline)) {
      close();
      throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " timed out");
    }
    socklen_t len = sizeof error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
  }
  if (error != 0) {
    close();
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(error));
  }
}

tcp_connection::~tcp_connection() {
  close();
}

tcp_connection::tcp_connection(tcp_connection&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

tcp_connection& tcp_connection::operator=(tcp_connection&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void tcp_connection::send_all(std::string_view bytes, std::chrono::milliseconds timeout) {
  auto deadline = test_clock::now() + timeout;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_ready(fd_, POLLOUT, deadline)) {
        throw std::runtime_error("send timed out");
      }
      continue;
    }
    throw std::system_error(errno, std::generic_category(), "send");
  }
}

read_outcome tcp_connection::read_some(std::string& into, test_clock::time_point deadline) {
  char buffer[16384];
  for (;;) {
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      into.append(buffer, static_cast<size_t>(n));
      return read_outcome::data;
    }
    if (n == 0) {
      return read_outcome::closed;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == ECONNRESET || errno == EPIPE) {
      return read_outcome::reset;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      throw std::system_error(errno, std::generic_category(), "recv");
    }
    if (!wait_ready(fd_, POLLIN, deadline)) {
      return read_outcome::timed_out;
    }
  }
}

bool tcp_connection::read_until_closed(std::string& into, test_clock::time_point deadline) {
  for (;;) {
    switch (read_some(into, deadline)) {
    case read_outcome::data:
      continue;
    case read_outcome::closed:
    case read_outcome::reset:
      return true;
    case read_outcome::timed_out:
      return false;
    }
  }
}

void tcp_connection::abort() {
  if (fd_ >= 0) {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
  }
}

void tcp_connection::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool wait_until_accepting(std::uint16_t port, std::chrono::milliseconds timeout) {
  auto deadline = test_clock::now() + timeout;
  while (test_clock::now() < deadline) {
    try {
      tcp_connection probe(port, std::chrono::milliseconds(200));
      return true;
    } catch (const std::runtime_error&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return false;
}

bool connection_refused(std::uint16_t port) {
  try {
    tcp_connection probe(port, std::chrono::milliseconds(500));
    return false;
  } catch (const std::runtime_error& e) {
    return std::string_view(e.what()).find(std::strerror(ECONNREFUSED)) != std::string_view::npos;
  }
}

} // namespace dockerflow::test
