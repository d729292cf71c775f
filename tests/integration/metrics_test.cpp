// Metrics from the real binary: statsd datagrams received on a real UDP socket, and Prometheus'
// /metrics on its own port, checked by Debian's promtool, scraped by a real prometheus, and a real
// blackbox exporter polling /__heartbeat__ through a Redis outage.
#include "support/app_process.hpp"
#include "support/blackbox_exporter.hpp"
#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/postgres_server.hpp"
#include "support/prometheus_server.hpp"
#include "support/redis_server.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;

// The statsd daemon's side: a UDP socket on 127.0.0.1 keeping every line it receives.
class statsd_receiver {
public:
  statsd_receiver() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      throw std::system_error(errno, std::generic_category(), "socket");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      int error = errno;
      ::close(fd_);
      throw std::system_error(error, std::generic_category(), "bind 127.0.0.1:0");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~statsd_receiver() { ::close(fd_); }
  statsd_receiver(const statsd_receiver&) = delete;
  statsd_receiver& operator=(const statsd_receiver&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  // Reads datagrams until one of the lines received so far matches `pattern` or `timeout` passes.
  bool wait_for(const std::string& pattern, std::chrono::milliseconds timeout = 10s) {
    const std::regex wanted(pattern);
    const auto deadline = test_clock::now() + timeout;
    for (;;) {
      if (std::any_of(lines_.begin(), lines_.end(), [&](const std::string& l) { return std::regex_match(l, wanted); })) {
        return true;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - test_clock::now()).count();
      if (left <= 0) {
        return false;
      }
      read_some(static_cast<int>(left));
    }
  }

  const std::vector<std::string>& lines() const noexcept { return lines_; }
  std::string dump() const {
    std::string text;
    for (const auto& line : lines_) {
      text += line + "\n";
    }
    return text;
  }
  void forget() { lines_.clear(); }

private:
  void read_some(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
      return;
    }
    char buffer[65536];
    const auto n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n <= 0) {
      return;
    }
    EXPECT_LE(static_cast<std::size_t>(n), 1432u) << "datagram larger than 1432 bytes";
    std::istringstream text(std::string(buffer, static_cast<std::size_t>(n)));
    for (std::string line; std::getline(text, line);) {
      lines_.push_back(line);
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::vector<std::string> lines_;
};

// A UDP port on 127.0.0.1 where nothing listens: the kernel chose it, and it was released.
std::uint16_t closed_udp_port() {
  statsd_receiver probe;
  return probe.port();
}

class Metrics : public ::testing::Test {
protected:
  void SetUp() override {
    postgres_ = std::make_unique<postgres_server>();
    redis_ = std::make_unique<redis_server>();
  }
  void TearDown() override {
    app_.reset();
    redis_.reset();
    postgres_.reset();
  }

  void start_app(env_map extra) {
    extra.emplace("DATABASE_URL", postgres_->url());
    extra.emplace("REDIS_URL", redis_->url());
    extra.emplace("DOCKERFLOW_CHECK_TIMEOUT_MS", "1000");
    app_ = std::make_unique<app_process>(app_options{.env = std::move(extra)});
  }
  std::uint16_t port() const { return app_->port(); }

  // Polls until /__heartbeat__ answers `status`; the app may reuse a check's result for a second.
  bool heartbeat_becomes(int status) {
    return eventually(10s, [&] { return http_get(port(), "/__heartbeat__", {}, 10s).status == status; }, 100ms);
  }

  std::unique_ptr<postgres_server> postgres_;
  std::unique_ptr<redis_server> redis_;
  std::unique_ptr<app_process> app_;
};

// ----- statsd -----------------------------------------------------------------------------------

TEST_F(Metrics, StatsdGetsRequestHeartbeatAndCheckLines) {
  statsd_receiver statsd;
  start_app({{"STATSD_HOST", "127.0.0.1"}, {"STATSD_PORT", std::to_string(statsd.port())}});

  ASSERT_EQ(http_get(port(), "/__lbheartbeat__").status, 200);
  EXPECT_TRUE(statsd.wait_for(R"(dockerflow\.request\.lbheartbeat\.200:1\|c)")) << statsd.dump();
  EXPECT_TRUE(statsd.wait_for(R"(dockerflow\.request\.lbheartbeat\.200:[0-9]+(\.[0-9]{1,3})?\|ms)")) << statsd.dump();

  ASSERT_EQ(http_get(port(), "/__heartbeat__", {}, 10s).status, 200);
  EXPECT_TRUE(statsd.wait_for(R"(dockerflow\.heartbeat\.pass:1\|c)")) << statsd.dump();
  EXPECT_TRUE(statsd.wait_for(R"(dockerflow\.request\.heartbeat\.200:1\|c)")) << statsd.dump();
  for (const std::string check : {"redis", "postgres"}) {
    EXPECT_TRUE(statsd.wait_for("dockerflow\\.check\\." + check + R"(:[0-9]+(\.[0-9]{1,3})?\|ms)")) << statsd.dump();
    EXPECT_TRUE(statsd.wait_for("dockerflow\\.check\\." + check + R"(\.level:0\|g)")) << statsd.dump();
  }

  ASSERT_EQ(http_get(port(), "/no/such/path").status, 404);
  EXPECT_TRUE(statsd.wait_for(R"(dockerflow\.request\.other\.404:1\|c)"))
      << "a path no route serves must not name a metric\n" << statsd.dump();

  redis_->stop();
  statsd.forget();
  ASSERT_TRUE(heartbeat_becomes(500));
  EXPECT_TRUE(statsd.wait_for(R"(dockerflow\.heartbeat\.fail:1\|c)")) << statsd.dump();
  EXPECT_TRUE(statsd.wait_for(R"(dockerflow\.request\.heartbeat\.500:1\|c)")) << statsd.dump();
  EXPECT_TRUE(statsd.wait_for(R"(dockerflow\.check\.redis\.level:40\|g)")) << statsd.dump();
  EXPECT_TRUE(statsd.wait_for(R"(dockerflow\.check\.postgres\.level:0\|g)")) << statsd.dump();
}

TEST_F(Metrics, StatsdPrefixAndTheSpecsStatdPortSpelling) {
  statsd_receiver statsd;
  // A name, not an address, as in compose; localhost resolves without any DNS traffic.
  start_app({{"STATSD_HOST", "localhost"}, {"STATD_PORT", std::to_string(statsd.port())}, {"STATSD_PREFIX", "svc"}});
  ASSERT_EQ(http_get(port(), "/__version__").status, 200);
  EXPECT_TRUE(statsd.wait_for(R"(svc\.request\.version\.200:1\|c)")) << statsd.dump();
  for (const auto& line : statsd.lines()) {
    EXPECT_EQ(line.rfind("svc.", 0), 0u) << line;
  }
}

TEST_F(Metrics, DeadStatsdChangesNothing) {
  start_app({{"STATSD_HOST", "127.0.0.1"}, {"STATSD_PORT", std::to_string(closed_udp_port())}});
  for (int i = 0; i < 200; ++i) {
    const auto start = test_clock::now();
    const auto response = http_get(port(), "/__lbheartbeat__");
    ASSERT_EQ(response.status, 200) << "request #" << i;
    // Generous for a loaded 2-core machine; a send or a lookup on the loop would take far longer.
    EXPECT_LT(test_clock::now() - start, 1s) << "request #" << i;
  }
  EXPECT_EQ(http_get(port(), "/__heartbeat__", {}, 10s).status, 200);
  const auto stopped = app_->stop();
  ASSERT_TRUE(stopped) << "the app did not stop within 10 s";
  EXPECT_TRUE(stopped->success()) << stopped->describe();
}

// ----- Prometheus ------------------------------------------------------------------------------

TEST_F(Metrics, MetricsPortServesTheSeriesAndThePublicPortDoesNot) {
  const auto metrics_port = free_port();
  start_app({{"METRICS_PORT", std::to_string(metrics_port)}});
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(http_get(port(), "/__lbheartbeat__").status, 200);
  }
  ASSERT_EQ(http_get(port(), "/__heartbeat__", {}, 10s).status, 200);

  EXPECT_EQ(http_get(port(), "/metrics").status, 404) << "/metrics must never be served on the public port";
  EXPECT_EQ(http_get(metrics_port, "/__heartbeat__").status, 404) << "the metrics port serves /metrics alone";

  const auto scrape = http_get(metrics_port, "/metrics");
  ASSERT_EQ(scrape.status, 200);
  EXPECT_EQ(scrape.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const auto& text = scrape.body;
  EXPECT_NE(text.find("dockerflow_requests_total{route=\"/__lbheartbeat__\",code=\"200\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("dockerflow_requests_total{route=\"/__heartbeat__\",code=\"200\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("dockerflow_request_duration_seconds_count{route=\"/__lbheartbeat__\",code=\"200\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("dockerflow_heartbeats_total{result=\"pass\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("dockerflow_check_level{check=\"redis\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("dockerflow_check_level{check=\"postgres\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("dockerflow_check_results_total{check=\"redis\",status=\"ok\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("dockerflow_check_duration_seconds{check=\"redis\"} "), std::string::npos) << text;

  // Debian's promtool parses and lints the exposition exactly as scraped.
  const auto promtool = std::filesystem::path("/usr/bin/promtool");
  ASSERT_TRUE(std::filesystem::exists(promtool)) << "promtool not found: run scripts/setup.sh to install prometheus";
  temp_dir dir("dockerflow-promtool");
  const auto scraped = dir.write_file("metrics.txt", text);
  const auto result = run_command(
      child_options{{"/bin/sh", "-c", "exec " + promtool.string() + " check metrics < '" + scraped.string() + "'"},
                    minimal_env(), dir.path(), dir.path(), "promtool", {}},
      30s);
  EXPECT_TRUE(result.status.success()) << result.status.describe() << "\n"
                                       << result.stdout_text << result.stderr_text << "\n" << text;
}

TEST_F(Metrics, PrometheusScrapesTheSeries) {
  const auto metrics_port = free_port();
  start_app({{"METRICS_PORT", std::to_string(metrics_port)}});
  ASSERT_EQ(http_get(port(), "/__lbheartbeat__").status, 200);
  ASSERT_EQ(http_get(port(), "/__heartbeat__", {}, 10s).status, 200);

  prometheus_server prometheus({.targets = {metrics_port}});
  nlohmann::json series;
  const bool scraped = eventually(
      20s,
      [&] {
        series = prometheus.query("dockerflow_requests_total");
        for (const auto& sample : series["result"]) {
          if (sample["metric"].value("route", "") == "/__lbheartbeat__" && sample["metric"].value("code", "") == "200") {
            return sample["value"][1] == "1";
          }
        }
        return false;
      },
      250ms);
  EXPECT_TRUE(scraped) << series.dump() << "\n" << prometheus.log_text();
  if (scraped) {
    EXPECT_EQ(series["resultType"], "vector");
  }
  const auto up = prometheus.query("up{job=\"dockerflow\"}");
  ASSERT_EQ(up["result"].size(), 1u) << up.dump();
  EXPECT_EQ(up["result"][0]["value"][1], "1") << up.dump();
  EXPECT_EQ(up["result"][0]["metric"]["instance"], "127.0.0.1:" + std::to_string(metrics_port)) << up.dump();

  const auto checks = prometheus.query("dockerflow_check_level");
  std::vector<std::string> names;
  for (const auto& sample : checks["result"]) {
    names.push_back(sample["metric"].value("check", ""));
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"postgres", "redis"})) << checks.dump();
}

TEST_F(Metrics, BlackboxProbeOfTheHeartbeatFollowsRedis) {
  start_app({});
  blackbox_exporter blackbox;
  const auto target = "http://127.0.0.1:" + std::to_string(port()) + "/__heartbeat__";
  EXPECT_EQ(blackbox.probe_success(target), 1.0) << blackbox.log_text();

  redis_->stop();
  EXPECT_TRUE(eventually(15s, [&] { return blackbox.probe_success(target) == 0.0; }, 200ms))
      << "probe_success stayed 1 with Redis stopped\n" << blackbox.log_text();

  redis_->start();
  EXPECT_TRUE(eventually(15s, [&] { return blackbox.probe_success(target) == 1.0; }, 200ms))
      << "probe_success stayed 0 after Redis came back\n" << blackbox.log_text();
}

} // namespace
} // namespace dockerflow::test
