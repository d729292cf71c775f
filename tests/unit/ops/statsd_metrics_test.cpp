// The statsd backend against a real UDP socket on 127.0.0.1 that the test binds and reads.
#include <dockerflow/ops/statsd_metrics.hpp>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace dockerflow {
namespace {

using namespace std::chrono_literals;
using test_clock = std::chrono::steady_clock;

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A statsd stand-in: a UDP socket on 127.0.0.1 that keeps every datagram it receives.
class udp_receiver {
 public:
  explicit udp_receiver(std::uint16_t port = 0) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    // Room for a whole test's burst, so the kernel never drops what the test counts.
    const int size = 1 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    socklen_t length = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      const int error = errno;
      ::close(fd_);
      throw std::system_error(error, std::generic_category(), "bind 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~udp_receiver() { ::close(fd_); }
  udp_receiver(const udp_receiver&) = delete;
  udp_receiver& operator=(const udp_receiver&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  // Datagrams until their lines number at least `lines`, or `timeout` passes.
  std::vector<std::string> receive(std::size_t lines, std::chrono::milliseconds timeout = 5s) {
    std::vector<std::string> datagrams;
    std::size_t seen = 0;
    const auto deadline = test_clock::now() + timeout;
    while (seen < lines) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - test_clock::now()).count();
      if (left <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buffer[65536];
      const auto n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n <= 0) continue;
      datagrams.emplace_back(buffer, static_cast<std::size_t>(n));
      seen += split_lines(datagrams.back()).size();
    }
    return datagrams;
  }

  std::vector<std::string> receive_lines(std::size_t lines, std::chrono::milliseconds timeout = 5s) {
    std::vector<std::string> all;
    for (const auto& datagram : receive(lines, timeout))
      for (auto& line : split_lines(datagram)) all.push_back(std::move(line));
    return all;
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// A UDP port on 127.0.0.1 that nothing listens on: the kernel chose it, and it was released.
std::uint16_t closed_udp_port() {
  udp_receiver probe;
  return probe.port();
}

// mozlog lines captured in memory. Read them only once the backend (and its thread) is gone.
struct captured_log {
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> logger;

  captured_log() {
    logger = std::make_shared<spdlog::logger>("statsd-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::debug);
  }
  mozlog log() const { return mozlog(logger, {"statsd-test", "host", 1}); }
  std::size_t count(const std::string& type) const {
    const auto lines = split_lines(out.str());
    return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](const std::string& line) {
      return line.find("\"Type\":\"" + type + "\"") != std::string::npos;
    }));
  }
};

statsd_endpoint endpoint_at(std::uint16_t port, std::string prefix = "dockerflow") {
  return statsd_endpoint{"127.0.0.1", port, std::move(prefix)};
}

class Statsd : public ::testing::Test {
 protected:
  udp_receiver statsd_;
  captured_log log_;
};

TEST_F(Statsd, RequestIsACounterAndATimerByRouteAndStatus) {
  statsd_metrics metrics(endpoint_at(statsd_.port()), log_.log());
  metrics.request("/__lbheartbeat__", 200, 1500us);
  EXPECT_EQ(statsd_.receive_lines(2),
            (std::vector<std::string>{"dockerflow.request.lbheartbeat.200:1|c", "dockerflow.request.lbheartbeat.200:1.5|ms"}));
}

TEST_F(Statsd, TimersKeepMicrosecondsAsFractionalMilliseconds) {
  statsd_metrics metrics(endpoint_at(statsd_.port()), log_.log());
  metrics.request("other", 404, 42us);
  metrics.request("/__version__", 200, 12ms);
  metrics.request("/__heartbeat__", 500, 2'000'250us);
  EXPECT_EQ(statsd_.receive_lines(6), (std::vector<std::string>{
                                          "dockerflow.request.other.404:1|c",
                                          "dockerflow.request.other.404:0.042|ms",
                                          "dockerflow.request.version.200:1|c",
                                          "dockerflow.request.version.200:12|ms",
                                          "dockerflow.request.heartbeat.500:1|c",
                                          "dockerflow.request.heartbeat.500:2000.25|ms",
                                      }));
}

TEST_F(Statsd, HeartbeatPassAndFailAreCounters) {
  statsd_metrics metrics(endpoint_at(statsd_.port()), log_.log());
  metrics.heartbeat(true);
  metrics.heartbeat(false);
  EXPECT_EQ(statsd_.receive_lines(2),
            (std::vector<std::string>{"dockerflow.heartbeat.pass:1|c", "dockerflow.heartbeat.fail:1|c"}));
}

TEST_F(Statsd, CheckIsATimerAndALevelGaugeNamedAfterTheCheck) {
  statsd_metrics metrics(endpoint_at(statsd_.port()), log_.log());
  metrics.check("redis", level::error, 12ms);
  metrics.check("postgres", level::ok, 0ms);
  metrics.check("db.replica", level::warning, 3ms);
  EXPECT_EQ(statsd_.receive_lines(6), (std::vector<std::string>{
                                          "dockerflow.check.redis:12|ms",
                                          "dockerflow.check.redis.level:40|g",
                                          "dockerflow.check.postgres:0|ms",
                                          "dockerflow.check.postgres.level:0|g",
                                          "dockerflow.check.db_replica:3|ms",
                                          "dockerflow.check.db_replica.level:30|g",
                                      }));
}

TEST_F(Statsd, EveryLineStartsWithThePrefix) {
  statsd_metrics metrics(endpoint_at(statsd_.port(), "svc.web"), log_.log());
  metrics.request("/__lbheartbeat__", 200, 1ms);
  metrics.heartbeat(true);
  metrics.check("redis", level::critical, 1ms);
  EXPECT_EQ(statsd_.receive_lines(5), (std::vector<std::string>{
                                          "svc.web.request.lbheartbeat.200:1|c",
                                          "svc.web.request.lbheartbeat.200:1|ms",
                                          "svc.web.heartbeat.pass:1|c",
                                          "svc.web.check.redis:1|ms",
                                          "svc.web.check.redis.level:50|g",
                                      }));
}

// How the backend writes a duration under 1 ms: "0", or "0." and up to three digits.
std::string sub_millisecond_text(int micros) {
  if (micros == 0) return "0";
  auto digits = std::to_string(1000 + micros).substr(1);
  while (digits.back() == '0') digits.pop_back();
  return "0." + digits;
}

TEST_F(Statsd, BatchesWholeLinesIntoDatagramsOfAtMost1432Bytes) {
  constexpr int requests = 600;
  std::map<std::string, int> expected;
  {
    statsd_metrics metrics(endpoint_at(statsd_.port()), log_.log());
    for (int i = 0; i < requests; ++i) {
      const auto name = "dockerflow.request.route" + std::to_string(i) + ".200";
      metrics.request("/route" + std::to_string(i), 200, std::chrono::microseconds(i));
      ++expected[name + ":1|c"];
      ++expected[name + ":" + sub_millisecond_text(i) + "|ms"];
    }
    EXPECT_EQ(metrics.dropped_lines(), 0u);
  }

  const auto datagrams = statsd_.receive(2 * requests);
  std::map<std::string, int> received;
  for (const auto& datagram : datagrams) {
    EXPECT_LE(datagram.size(), statsd_metrics::max_datagram);
    EXPECT_NE(datagram.back(), '\n') << "lines are separated, not terminated";
    for (const auto& line : split_lines(datagram)) ++received[line];
  }
  EXPECT_EQ(received, expected) << "a line was split, lost or repeated";
  // A full datagram holds about 39 of these lines; where each flush ends depends on the scheduler.
  EXPECT_LT(datagrams.size(), static_cast<std::size_t>(2 * requests / 4)) << "lines were not batched";
}

TEST_F(Statsd, LinesShorterThanADatagramGoOutAsOne) {
  {
    // Nothing wakes the sender before the destructor: under a datagram's worth, and a long interval.
    statsd_metrics::tuning slow;
    slow.flush_interval = 60s;
    statsd_metrics metrics(endpoint_at(statsd_.port()), log_.log(), slow);
    for (int i = 0; i < 47; ++i) metrics.heartbeat(true);  // 47 x 30 bytes - 1 newline = 1409
  }
  const auto datagrams = statsd_.receive(47);
  ASSERT_EQ(datagrams.size(), 1u);
  EXPECT_EQ(datagrams[0].size(), 47u * 30u - 1u);
  EXPECT_EQ(split_lines(datagrams[0]), std::vector<std::string>(47, "dockerflow.heartbeat.pass:1|c"));
}

TEST_F(Statsd, DatagramEndsBeforeTheLineThatWouldNotFit) {
  {
    statsd_metrics::tuning slow;
    slow.flush_interval = 60s;
    statsd_metrics metrics(endpoint_at(statsd_.port()), log_.log(), slow);
    // The 48th line makes a datagram's worth and wakes the sender; 48 lines would need 1439 bytes.
    for (int i = 0; i < 50; ++i) metrics.heartbeat(true);
  }
  const auto datagrams = statsd_.receive(50);
  ASSERT_GE(datagrams.size(), 2u);
  EXPECT_EQ(datagrams[0].size(), 47u * 30u - 1u);
  std::size_t lines = 0;
  for (const auto& datagram : datagrams) {
    for (const auto& line : split_lines(datagram)) EXPECT_EQ(line, "dockerflow.heartbeat.pass:1|c");
    lines += split_lines(datagram).size();
  }
  EXPECT_EQ(lines, 50u);
}

TEST_F(Statsd, LineLongerThanADatagramIsDroppedNotSplit) {
  statsd_metrics metrics(endpoint_at(statsd_.port()), log_.log());
  metrics.check(std::string(1500, 'x'), level::ok, 1ms);
  metrics.heartbeat(true);
  const auto datagrams = statsd_.receive(1);
  ASSERT_EQ(datagrams.size(), 1u);
  EXPECT_EQ(datagrams[0], "dockerflow.heartbeat.pass:1|c");
  EXPECT_EQ(metrics.dropped_lines(), 2u);
}

TEST_F(Statsd, FullBufferDropsTheNewestLines) {
  {
    // A flush interval longer than the test: the buffer fills, and only the final flush empties it.
    statsd_metrics::tuning slow;
    slow.buffer_limit = 200;
    slow.flush_interval = 60s;
    statsd_metrics metrics(endpoint_at(statsd_.port()), log_.log(), slow);
    for (int i = 0; i < 6; ++i) metrics.heartbeat(true);  // 6 x 30 bytes
    for (int i = 0; i < 4; ++i) metrics.heartbeat(false);
    EXPECT_EQ(metrics.dropped_lines(), 4u);
  }
  EXPECT_EQ(statsd_.receive_lines(6), std::vector<std::string>(6, "dockerflow.heartbeat.pass:1|c"));
  EXPECT_TRUE(statsd_.receive_lines(1, 200ms).empty()) << "a line past the limit was sent";
}

TEST_F(Statsd, DestructorSendsWhatIsBuffered) {
  {
    statsd_metrics::tuning slow;
    slow.flush_interval = 60s;
    statsd_metrics metrics(endpoint_at(statsd_.port()), log_.log(), slow);
    metrics.heartbeat(false);
  }
  EXPECT_EQ(statsd_.receive_lines(1), std::vector<std::string>{"dockerflow.heartbeat.fail:1|c"});
}

TEST(StatsdDown, DeadStatsdBlocksNothingAndIsUsedOnceItListens) {
  const auto port = closed_udp_port();
  captured_log log;
  statsd_metrics metrics(endpoint_at(port), log.log());
  // Two threads, as from two event-loop threads, into a port where nothing listens: each call
  // returns, and none waits on the other or on the sender.
  std::vector<std::thread> callers;
  for (int t = 0; t < 2; ++t)
    callers.emplace_back([&metrics] {
      for (int i = 0; i < 5000; ++i) metrics.request("/__lbheartbeat__", 200, 1ms);
    });
  for (auto& caller : callers) caller.join();

  // Statsd comes up on that port: lines sent from then on arrive (after any of the flood still
  // buffered).
  udp_receiver statsd(port);
  bool arrived = false;
  for (int attempt = 0; attempt < 50 && !arrived; ++attempt) {
    metrics.heartbeat(false);
    const auto lines = statsd.receive_lines(1000, 100ms);
    arrived = std::find(lines.begin(), lines.end(), "dockerflow.heartbeat.fail:1|c") != lines.end();
  }
  EXPECT_TRUE(arrived) << "nothing sent after statsd came up arrived";
}

TEST(StatsdDown, FailingSendsAreCountedAndWarnedOnce) {
  captured_log log;
  {
    // Port 0 is a destination the kernel refuses every datagram to (EINVAL): sending fails locally,
    // on every flush, with no traffic at all.
    statsd_metrics::tuning fast;
    fast.flush_interval = 5ms;
    statsd_metrics metrics(endpoint_at(0), log.log(), fast);
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 10; ++i) metrics.heartbeat(true);
      std::this_thread::sleep_for(20ms);  // let each round be its own flush
    }
    for (int i = 0; i < 100 && metrics.dropped_lines() < 50; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_EQ(metrics.dropped_lines(), 50u);
  }
  EXPECT_EQ(log.count("statsd.failing"), 1u) << log.out.str();
  EXPECT_EQ(log.count("statsd.recovered"), 0u) << log.out.str();
  EXPECT_NE(log.out.str().find("Invalid argument"), std::string::npos) << log.out.str();
}

TEST_F(Statsd, FactoryBuildsABackendFromTheEndpoint) {
  std::shared_ptr<metrics> backend = make_statsd_metrics(endpoint_at(statsd_.port(), "app"), log_.log());
  backend->heartbeat(true);
  EXPECT_EQ(statsd_.receive_lines(1), std::vector<std::string>{"app.heartbeat.pass:1|c"});
}

}  // namespace
}  // namespace dockerflow
