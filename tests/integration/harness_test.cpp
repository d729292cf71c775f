// Checks the test harness itself against real PostgreSQL and Redis, so a failure in the app's tests
// can be trusted to be the app's and not the harness's.
#include "support/child_process.hpp"
#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/postgres_server.hpp"
#include "support/process_inspection.hpp"
#include "support/redis_server.hpp"
#include "support/tcp_connection.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

// One command and its one-line reply over a raw socket, for talking to Redis without a client library.
std::string redis_command(std::uint16_t port, const std::string& command, std::chrono::milliseconds timeout) {
  tcp_connection connection(port, timeout);
  connection.send_all(command + "\r\n", timeout);
  std::string reply;
  auto deadline = test_clock::now() + timeout;
  while (reply.find("\r\n") == std::string::npos) {
    if (connection.read_some(reply, deadline) != read_outcome::data) {
      return reply;
    }
  }
  return reply;
}

TEST(TempDir, IsRemovedOnDestruction) {
  std::filesystem::path path;
  {
    temp_dir dir;
    path = dir.path();
    dir.write_file("a/b.txt", "hello");
    EXPECT_EQ(read_file(dir / "a/b.txt"), "hello");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(FreePort, PortsAreDistinctAndUnused) {
  auto a = free_port();
  auto b = free_port();
  EXPECT_NE(a, b);
  EXPECT_TRUE(connection_refused(a));
}

TEST(ChildProcess, CapturesOutputAndExitCode) {
  temp_dir dir;
  child_process child({{"sh", "-c", "echo out; echo \"$GREETING\" >&2; exit 3"},
                       minimal_env({{"GREETING", "hi there"}}),
                       dir.path(),
                       dir.path(),
                       "sh"});
  auto status = child.wait_for(5s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(status->exited);
  EXPECT_EQ(status->code, 3);
  EXPECT_EQ(child.stdout_text(), "out\n");
  EXPECT_EQ(child.stderr_text(), "hi there\n");
}

TEST(ChildProcess, DoesNotInheritTheRunnersEnvironment) {
  ::setenv("DOCKERFLOW_HARNESS_LEAK", "leaked", 1);
  temp_dir dir;
  child_process child({{"sh", "-c", "printf '%s' \"${DOCKERFLOW_HARNESS_LEAK:-clean}\""}, minimal_env(), dir.path(),
                       dir.path(), "sh"});
  ASSERT_TRUE(child.wait_for(5s));
  EXPECT_EQ(child.stdout_text(), "clean");
  ::unsetenv("DOCKERFLOW_HARNESS_LEAK");
}

TEST(ChildProcess, InheritsNoDescriptorButStdinStdoutAndStderr) {
  const int leak = ::open("/dev/null", O_RDONLY);  // not close-on-exec: a fork would hand it on
  ASSERT_GE(leak, 0);
  temp_dir dir;
  child_process child({{"sh", "-c", "ls /proc/$$/fd"}, minimal_env(), dir.path(), dir.path(), "sh"});
  ASSERT_TRUE(child.wait_for(5s));
  ::close(leak);
  EXPECT_EQ(child.stdout_text(), "0\n1\n2\n");
}

TEST(ChildProcess, WaitTimesOutAndDestructorKillsTheWholeGroup) {
  temp_dir dir;
  pid_t grandchild = -1;
  {
    child_process child({{"sh", "-c", "sleep 60 & echo $!; wait"}, minimal_env(), dir.path(), dir.path(), "sh"});
    EXPECT_FALSE(child.wait_for(100ms));
    auto deadline = test_clock::now() + 5s;
    while (child.stdout_text().empty() && test_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    grandchild = std::stoi(child.stdout_text());
    EXPECT_TRUE(process_alive(grandchild));
  }
  auto deadline = test_clock::now() + 5s;
  while (process_alive(grandchild) && test_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_FALSE(process_alive(grandchild));
}

TEST(ChildProcess, ReportsDeathBySignal) {
  temp_dir dir;
  child_process child({{"sleep", "60"}, minimal_env(), dir.path(), dir.path(), "sleep"});
  child.send_signal(SIGTERM);
  auto status = child.wait_for(5s);
  ASSERT_TRUE(status);
  EXPECT_FALSE(status->exited);
  EXPECT_EQ(status->signal, SIGTERM);
}

TEST(ChildProcess, MissingProgramThrows) {
  temp_dir dir;
  EXPECT_THROW(child_process({{"/nonexistent/program"}, minimal_env(), dir.path(), dir.path(), "x"}),
               std::system_error);
}

TEST(RedisServer, StartsPausesResumesAndRestartsOnTheSamePort) {
  redis_server redis;
  EXPECT_EQ(redis_command(redis.port(), "PING", 2s), "+PONG\r\n");
  auto port = redis.port();

  redis.pause();
  // A frozen server still completes the handshake (the kernel does that) but never answers.
  EXPECT_EQ(redis_command(redis.port(), "PING", 300ms), "");
  redis.resume();
  EXPECT_EQ(redis_command(redis.port(), "PING", 2s), "+PONG\r\n");

  redis.stop();
  EXPECT_TRUE(connection_refused(port));
  redis.start();
  EXPECT_EQ(redis.port(), port);
  EXPECT_EQ(redis_command(redis.port(), "PING", 2s), "+PONG\r\n");
  EXPECT_EQ(redis.url(), "redis://127.0.0.1:" + std::to_string(port) + "/0");
}

TEST(RedisServer, RequiresThePasswordWhenOneIsSet) {
  redis_server redis({.password = "harness-secret"});
  EXPECT_EQ(redis_command(redis.port(), "PING", 2s).rfind("-NOAUTH", 0), 0u);
  EXPECT_EQ(redis.url(), "redis://:harness-secret@127.0.0.1:" + std::to_string(redis.port()) + "/0");
}

TEST(PostgresServer, StartsStopsRestartsOnTheSamePortAndPauses) {
  postgres_server postgres;
  auto port = postgres.port();
  EXPECT_FALSE(connection_refused(port));
  pid_t postmaster = postgres.pid();
  EXPECT_TRUE(process_alive(postmaster));
  EXPECT_EQ(postgres.url(), "postgresql://dockerflow@127.0.0.1:" + std::to_string(port) + "/dockerflow");

  postgres.pause();
  for (pid_t p : process_tree(postmaster)) {
    // 'Z': a backend that exited just before the freeze; its stopped parent cannot reap it.
    char state = process_state(p);
    EXPECT_TRUE(state == 'T' || state == 'Z') << "pid " << p << " state " << state;
  }
  postgres.resume();
  EXPECT_NE(process_state(postmaster), 'T');

  postgres.stop();
  EXPECT_TRUE(connection_refused(port));
  EXPECT_FALSE(process_alive(postmaster));
  postgres.start();
  EXPECT_EQ(postgres.port(), port);
  EXPECT_FALSE(connection_refused(port));
}

TEST(PostgresServer, DestructionStopsEvenAPausedServer) {
  pid_t postmaster;
  std::uint16_t port;
  {
    postgres_server postgres;
    postmaster = postgres.pid();
    port = postgres.port();
    postgres.pause();
  }
  EXPECT_FALSE(process_alive(postmaster));
  EXPECT_TRUE(connection_refused(port));
}

TEST(PostgresServer, PasswordAuthenticationIsEnforced) {
  postgres_server postgres({.password = "harness-pg-secret"});
  auto bin = find_postgres_bin_dir();
  temp_dir dir;
  auto psql = [&](std::string url) {
    return run_command({{(bin / "psql").string(), url, "-tAc", "SELECT 40 + 2"}, minimal_env(), dir.path(),
                        dir.path(), "psql"},
                       20s);
  };
  auto good = psql(postgres.url());
  EXPECT_TRUE(good.status.success()) << good.stderr_text;
  EXPECT_EQ(good.stdout_text, "42\n");
  auto bad = psql("postgresql://dockerflow:wrong@127.0.0.1:" + std::to_string(postgres.port()) + "/dockerflow");
  EXPECT_FALSE(bad.status.success());
}

TEST(HttpClient, ParsesPipelinedResponsesFromARawServer) {
  // An in-process server sends canned bytes, so the parser is checked against exact input:
  // Content-Length, a HEAD response whose Content-Length has no body, chunked, and close-delimited.
  auto port = free_port();
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  std::thread server([listener] {
    int client = ::accept(listener, nullptr, nullptr);
    std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"
                        "HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n"
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
                        "HTTP/1.1 500 Internal Server Error\r\n\r\nuntil close";
    [[maybe_unused]] auto sent = ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(client);
  });
  http_connection connection(port);
  auto first = connection.read_response();
  auto second = connection.read_response(true);
  auto third = connection.read_response();
  auto fourth = connection.read_response();
  server.join();
  ::close(listener);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "hello");
  EXPECT_EQ(first.header("x-a"), "1");
  EXPECT_EQ(second.status, 404);
  EXPECT_EQ(second.reason, "Not Found");
  EXPECT_EQ(second.body, "");
  EXPECT_EQ(third.body, "abcde");
  EXPECT_EQ(fourth.status, 500);
  EXPECT_EQ(fourth.body, "until close");
}

} // namespace
} // namespace dockerflow::test
