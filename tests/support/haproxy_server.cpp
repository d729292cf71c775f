#include "support/haproxy_server.hpp"

#include "support/eventually.hpp"
#include "support/free_port.hpp"
#include "support/tcp_connection.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* haproxy_path = "/usr/sbin/haproxy";

// The balancer's configuration. Values that matter for a rolling restart, and why:
//
// - Health checks: GET /__lbheartbeat__ every 200 ms, 2 failures take a server out of rotation and
//   2 successes put it back, so a draining instance (which answers 503 there) is out within ~0.4 s
//   plus a check's round trip.
// - `timeout connect 200ms`: between connection retries haproxy waits min(timeout connect, 1 s), so
//   a request sent to an instance that has gone away fails after `retries` x 200 ms instead of
//   hanging; it is not moved to another server (no `option redispatch`, as in many deployments:
//   a drain must not depend on it).
// - Server-side keep-alive stays on (`http-reuse safe`, haproxy's default), as a real balancer runs.
//   That leaves one race that no server can close: when an instance starts draining it closes its
//   idle keep-alive connections, and haproxy may have written a request on one of them at that same
//   instant. The request then gets no answer at all. HTTP lets a client repeat an idempotent request
//   in exactly that case (RFC 9110 9.2.2, RFC 9112 9.3.1), so `retry-on empty-response` does so on
//   the same server, which is still serving during its drain. Non-idempotent methods are not
//   repeated (`disable-l7-retry`); connection failures are retried for every method, as by default.
//   The alternative, `option http-server-close` (a new server connection per request), would avoid
//   the race but is not how balancers are run in front of services with keep-alive.
// - Each request is logged (`option httplog`: termination state, retry count), so a failure can be
//   traced to what haproxy saw, and every health check transition too; connections that send
//   nothing (the harness's readiness probe) are not (`option dontlognull`).
std::string make_config(const haproxy_options& options, std::uint16_t port, const std::filesystem::path& socket) {
  std::ostringstream out;
  out << "global\n"
         "  log stderr format raw local0 info\n"
         "  stats socket " << socket.string() << " mode 600 level admin\n"
         "  maxconn 4096\n"
         "\n"
         "defaults\n"
         "  mode http\n"
         "  log global\n"
         "  option httplog\n"
         "  option log-health-checks\n"
         "  option dontlognull\n"
         "  timeout connect 200ms\n"
         "  timeout client 10s\n"
         "  timeout server 10s\n"
         "  timeout http-request 5s\n"
         "  timeout http-keep-alive 5s\n"
         "  retries 3\n"
         "\n"
         "frontend www\n"
         "  bind 127.0.0.1:" << port << "\n"
         "  default_backend app\n"
         "\n"
         "backend app\n"
         "  balance roundrobin\n"
         "  option httpchk\n"
         "  http-check send meth GET uri " << options.health_check_path << "\n"
         "  http-check expect status 200\n"
         "  http-reuse safe\n"
         "  retry-on conn-failure empty-response\n"
         "  http-request disable-l7-retry unless METH_GET\n"
         "  default-server inter 200ms fall 2 rise 2\n";
  for (const auto& server : options.servers) {
    out << "  server " << server.name << " 127.0.0.1:" << server.port << " check\n";
  }
  return out.str();
}

// A unix stream socket to the admin socket whose every step is bounded by `deadline`.
class admin_connection {
public:
  admin_connection(const std::filesystem::path& path, test_clock::time_point deadline) : deadline_(deadline) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.string().size() >= sizeof addr.sun_path) {
      throw std::runtime_error("admin socket path too long: " + path.string());
    }
    std::strcpy(addr.sun_path, path.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      throw std::system_error(errno, std::generic_category(), "socket(AF_UNIX)");
    }
    // A local connect either succeeds or fails at once; it never waits for a handshake.
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      int error = errno;
      ::close(fd_);
      throw std::system_error(error, std::generic_category(), "connect " + path.string());
    }
  }
  ~admin_connection() { ::close(fd_); }
  admin_connection(const admin_connection&) = delete;
  admin_connection& operator=(const admin_connection&) = delete;

  void send_all(std::string_view bytes) {
    while (!bytes.empty()) {
      wait(POLLOUT, "writing to");
      auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno != EINTR) {
        throw std::system_error(errno, std::generic_category(), "send to the haproxy admin socket");
      }
      bytes.remove_prefix(n > 0 ? static_cast<std::size_t>(n) : 0);
    }
  }

  // Without the interactive prompt haproxy answers one command and closes.
  std::string read_until_closed() {
    std::string text;
    char chunk[4096];
    for (;;) {
      wait(POLLIN, "reading from");
      auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) {
        return text;
      }
      if (n < 0 && errno != EINTR) {
        throw std::system_error(errno, std::generic_category(), "recv from the haproxy admin socket");
      }
      text.append(chunk, n > 0 ? static_cast<std::size_t>(n) : 0);
    }
  }

private:
  void wait(short events, const char* what) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - test_clock::now()).count();
      if (left <= 0) {
        throw std::runtime_error(std::string("timed out ") + what + " the haproxy admin socket");
      }
      pollfd p{fd_, events, 0};
      int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
      if (r > 0) {
        return;
      }
      if (r < 0 && errno != EINTR) {
        throw std::system_error(errno, std::generic_category(), "poll");
      }
    }
  }

  int fd_ = -1;
  test_clock::time_point deadline_;
};

std::vector<std::string> split(std::string_view line, char separator) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (;;) {
    auto end = line.find(separator, start);
    fields.emplace_back(line.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) {
      return fields;
    }
    start = end + 1;
  }
}

} // namespace

std::filesystem::path haproxy_server::binary_path() {
  if (!std::filesystem::exists(haproxy_path)) {
    throw std::runtime_error(std::string(haproxy_path) + " not found: run scripts/setup.sh to install haproxy");
  }
  return haproxy_path;
}

haproxy_server::haproxy_server(haproxy_options options)
    : options_(std::move(options)), dir_("dockerflow-haproxy"), port_(free_port()),
      socket_path_(dir_ / "admin.sock"), config_path_(dir_ / "haproxy.cfg") {
  dir_.write_file("haproxy.cfg", make_config(options_, port_, socket_path_));
  // -db: stay in the foreground, a single process, so the harness owns and can kill it.
  child_options child;
  child.argv = {binary_path().string(), "-f", config_path_.string(), "-db"};
  child.env = minimal_env();
  child.working_dir = dir_.path();
  child.output_dir = dir_.path();
  child.output_name = "haproxy";
  process_ = std::make_unique<child_process>(std::move(child));
  auto deadline = test_clock::now() + 10s;
  for (;;) {
    if (!process_->running()) {
      throw std::runtime_error("haproxy exited during start-up (" + process_->status()->describe() +
                               "):\n" + log_text() + "\nconfig:\n" + read_file(config_path_));
    }
    if (std::filesystem::exists(socket_path_) && !connection_refused(port_)) {
      try {
        admin_command("show info");
        return;
      } catch (const std::exception&) {
        // The socket file can appear before haproxy listens on it.
      }
    }
    if (test_clock::now() >= deadline) {
      throw std::runtime_error("haproxy did not accept connections within 10 s on port " + std::to_string(port_) +
                               ":\n" + log_text());
    }
    std::this_thread::sleep_for(10ms);
  }
}

std::string haproxy_server::admin_command(std::string_view command) const {
  admin_connection connection(socket_path_, test_clock::now() + 2s);
  connection.send_all(std::string(command) + "\n");
  return connection.read_until_closed();
}

std::map<std::string, std::map<std::string, std::string>> haproxy_server::server_stats() const {
  std::istringstream text(admin_command("show stat"));
  std::string line;
  std::vector<std::string> columns;
  std::map<std::string, std::map<std::string, std::string>> rows;
  while (std::getline(text, line)) {
    if (line.rfind("# ", 0) == 0) {
      columns = split(std::string_view(line).substr(2), ',');
      continue;
    }
    auto fields = split(line, ',');
    if (columns.empty() || fields.size() < 2 || fields[0] != "app" || fields[1] == "BACKEND") {
      continue;
    }
    auto& row = rows[fields[1]];
    for (std::size_t i = 0; i < std::min(columns.size(), fields.size()); ++i) {
      row[columns[i]] = fields[i];
    }
  }
  return rows;
}

std::string haproxy_server::server_status(std::string_view server) const {
  auto rows = server_stats();
  auto it = rows.find(std::string(server));
  if (it == rows.end()) {
    throw std::runtime_error("haproxy reports no server named " + std::string(server));
  }
  return it->second["status"];
}

bool haproxy_server::wait_until_up(std::string_view server, std::chrono::milliseconds timeout) const {
  return eventually(timeout, [&] { return server_status(server) == "UP"; }, 10ms);
}

bool haproxy_server::wait_until_down(std::string_view server, std::chrono::milliseconds timeout) const {
  return eventually(timeout, [&] { return server_status(server).rfind("DOWN", 0) == 0; }, 10ms);
}

std::string haproxy_server::log_text() const {
  return process_->stdout_text() + process_->stderr_text();
}

} // namespace dockerflow::test
