// The binary's command line: `healthcheck` (the container's HEALTHCHECK, which has no curl) and
// `--help`.
#include "support/app_process.hpp"
#include "support/child_process.hpp"
#include "support/free_port.hpp"
#include "support/tcp_connection.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

struct timed_result {
  command_result result;
  std::chrono::milliseconds elapsed;
};

timed_result run_app_command(std::vector<std::string> args, env_map env) {
  temp_dir dir;
  std::vector<std::string> argv{app_process::binary_path().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto start = test_clock::now();
  auto result = run_command({argv, minimal_env(std::move(env)), dir.path(), dir.path(), "app"}, 15s);
  return {result, std::chrono::duration_cast<std::chrono::milliseconds>(test_clock::now() - start)};
}

// A socket that listens but never accepts or answers: connections complete in the kernel and then
// nothing happens, like a frozen server.
class silent_listener {
public:
  silent_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("silent_listener: cannot listen");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~silent_listener() { ::close(fd_); }
  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;
  std::uint16_t port() const { return port_; }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

TEST(Healthcheck, ExitsZeroAgainstAServingApp) {
  app_process app;
  auto run = run_app_command({"healthcheck"}, {{"PORT", std::to_string(app.port())}});
  EXPECT_TRUE(run.result.status.success()) << run.result.status.describe() << "\n" << run.result.stderr_text;
}

TEST(Healthcheck, ExitsOneWhenNothingListens) {
  auto run = run_app_command({"healthcheck"}, {{"PORT", std::to_string(free_port())}});
  EXPECT_TRUE(run.result.status.exited);
  EXPECT_EQ(run.result.status.code, 1);
  EXPECT_LT(run.elapsed, 3500ms);
}

TEST(Healthcheck, GivesUpOnAServerThatNeverAnswers) {
  silent_listener frozen;
  auto run = run_app_command({"healthcheck"}, {{"PORT", std::to_string(frozen.port())}});
  EXPECT_TRUE(run.result.status.exited);
  EXPECT_EQ(run.result.status.code, 1);
  // Its timeout is 3 s; Docker's HEALTHCHECK must not wait much longer than that.
  EXPECT_LT(run.elapsed, 4500ms);
}

TEST(CommandLine, HelpExitsZeroAndDescribesTheCommands) {
  auto run = run_app_command({"--help"}, {});
  EXPECT_TRUE(run.result.status.success()) << run.result.status.describe();
  EXPECT_NE(run.result.stdout_text.find("healthcheck"), std::string::npos) << run.result.stdout_text;
}

TEST(CommandLine, UnknownArgumentIsRefused) {
  auto run = run_app_command({"serve-everything"}, {});
  EXPECT_TRUE(run.result.status.exited);
  EXPECT_NE(run.result.status.code, 0);
  EXPECT_NE(run.result.stderr_text.find("serve-everything"), std::string::npos) << run.result.stderr_text;
}

} // namespace
} // namespace dockerflow::test
