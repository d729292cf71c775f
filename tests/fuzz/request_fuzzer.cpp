// Arbitrary bytes through the real request path, in process: the very server dockerflow-app runs
// (parser, header and body limits, routing, request ids, answers, the request.summary line), with the
// Dockerflow routes registered as main registers them, reached over a loopback socket. Each input is
// one connection: its bytes, then end of input; whatever the server answers is read to the end.
#include <dockerflow/http/dockerflow_endpoints.hpp>
#include <dockerflow/health/heartbeat.hpp>
#include <dockerflow/http/lifecycle.hpp>
#include <dockerflow/ops/metrics.hpp>
#include <dockerflow/ops/mozlog.hpp>
#include <dockerflow/http/router.hpp>
#include <dockerflow/http/server.hpp>
#include <dockerflow/ops/version.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

namespace {

using namespace dockerflow;

// A check that answers at once: the heartbeat route runs its real code without a dependency.
class ok_check final : public check {
 public:
  std::string_view name() const noexcept override { return "fixed"; }
  std::vector<message> run(check_clock::time_point) override { return {}; }
};

// Every line is rendered as in production, then dropped.
mozlog silent_log() {
  auto logger = std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
  logger->set_level(spdlog::level::info);
  return mozlog(std::move(logger), {"fuzz", "host", 1});
}

std::vector<std::unique_ptr<check>> one_check() {
  std::vector<std::unique_ptr<check>> checks;
  checks.push_back(std::make_unique<ok_check>());
  return checks;
}

struct service {
  service() {
    add_dockerflow_routes(routes, version, beat, life, measure,
                          {.heartbeat_failed_status = 503, .details_token = "fuzz-token", .error_endpoint = true});
    srv.listen({boost::asio::ip::make_address("127.0.0.1"), 0});
    srv.start();
    port = srv.local_endpoint().port();
    loop = std::thread([this] { io.run(); });
  }

  boost::asio::io_context io;
  version_info version = parse_version(R"({"source":"s","version":"v","commit":"c","build":"b"})");
  heartbeat beat{io.get_executor(), one_check(), std::chrono::milliseconds(500), {.cache = std::chrono::milliseconds(100)}};
  lifecycle life;
  metrics_fanout measure;
  router routes;
  mozlog log = silent_log();
  server srv{io, routes, log, life, measure};
  std::uint16_t port = 0;
  std::thread loop;
};

void send_all(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const auto n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may refuse and close early: that is an answer too
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

// Millions of loopback connections can leave the machine short of ephemeral ports for a moment
// (EADDRNOTAVAIL): that is the harness, so it waits and tries again with a new socket. Any other
// failure, a refused connection above all, means the server stopped listening: a finding.
int connect_to(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int attempt = 0;; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) std::abort();
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) return fd;
    const int error = errno;
    ::close(fd);
    if ((error != EADDRNOTAVAIL && error != EAGAIN && error != EINTR) || attempt == 100) {
      std::fprintf(stderr, "request_fuzzer: connecting to the server failed: %s\n", std::strerror(error));
      std::abort();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void exchange(std::uint16_t port, const std::uint8_t* data, std::size_t size) {
  const int fd = connect_to(port);
  timeval limit{5, 0};  // the server's own read timeout is 10 s, but input ends at once here
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  send_all(fd, data, size);
  ::shutdown(fd, SHUT_WR);
  char sink[16 * 1024];
  for (;;) {
    const auto n = ::recv(fd, sink, sizeof(sink), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) std::abort();  // the server neither answered nor closed
      break;
    }
  }
  // Reset instead of TIME_WAIT: millions of connections must not exhaust the ephemeral ports.
  linger reset{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
  ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static service* const running = new service();  // lives as long as the fuzzing process
  exchange(running->port, data, size);
  return 0;
}
