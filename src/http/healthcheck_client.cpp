#include <dockerflow/http/healthcheck_client.hpp>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string_view>

namespace dockerflow {
namespace {

struct fd_closer {
  int fd;
  ~fd_closer() {
    if (fd >= 0) ::close(fd);
  }
};

bool set_timeouts(int fd, std::chrono::milliseconds timeout) {
  const timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  // On Linux SO_SNDTIMEO also bounds connect().
  return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0 &&
         setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0;
}

}  // namespace

bool probe_lbheartbeat(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return false;
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);

  const fd_closer socket{::socket(found->ai_family, found->ai_socktype, found->ai_protocol)};
  if (socket.fd < 0 || !set_timeouts(socket.fd, timeout)) return false;
  if (::connect(socket.fd, found->ai_addr, found->ai_addrlen) != 0) return false;

  constexpr std::string_view request = "GET /__lbheartbeat__ HTTP/1.1\r\nHost: localhost\r\nUser-Agent: dockerflow-healthcheck\r\nConnection: close\r\n\r\n";
  if (::send(socket.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) return false;

  char status_line[32] = {};
  std::size_t received = 0;
  while (received < sizeof status_line - 1) {
    const auto n = ::recv(socket.fd, status_line + received, sizeof status_line - 1 - received, 0);
    if (n <= 0) break;
    received += static_cast<std::size_t>(n);
  }
  const std::string_view answer(status_line, received);
  return answer.starts_with("HTTP/1.1 200 ") || answer.starts_with("HTTP/1.0 200 ");
}

}  // namespace dockerflow
