// The load-balancer proof of the drain on SIGTERM: Debian's haproxy health-checks /__lbheartbeat__ of
// two instances while a client sends steady load through it; the instances are restarted one after
// the other, as a deploy does. With the drain no request fails; without it (DOCKERFLOW_DRAIN_SECONDS=0)
// requests do fail, so the drain is what makes the difference.
#include "support/app_process.hpp"
#include "support/free_port.hpp"
#include "support/haproxy_server.hpp"
#include "support/http_client.hpp"
#include "support/log_reader.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

constexpr int requests_per_second = 300;
// Bounds the load even if the restart sequence hangs.
constexpr auto max_load_duration = 25s;
// Enough that requests haproxy holds for retries (up to ~0.6 s each) do not stall the pace.
constexpr int load_threads = 48;
// A real deploy's replacement container takes seconds to pull, start and listen; a new process on
// this machine listens within ~20 ms. Waiting between the old instance's exit and the new one's start
// models that gap, in which the old address refuses connections. Without it, haproxy's connection
// retries (3 x 200 ms) would often reach the replacement and hide what an instance that leaves
// without a drain does to requests in flight towards it.
constexpr auto replacement_start_delay = 1500ms;
constexpr auto drain_seconds = "2";

std::string clip(std::string text, std::size_t size = 160) {
  std::replace(text.begin(), text.end(), '\r', ' ');
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text.size() > size ? text.substr(0, size) + "..." : text;
}

// ~requests_per_second GET requests through the balancer, each on a new connection, spread over
// worker threads. Slot k is due at start + k / rate, so the pace stays steady while some requests
// are slow; the number of slots bounds the load in time and count. A request fails when the answer
// is not 2xx or when anything goes wrong on the connection (refused, reset, closed early, timeout).
class steady_load {
public:
  struct failure {
    milliseconds at;
    std::string reason;
  };

  explicit steady_load(std::uint16_t port)
      : port_(port), start_(test_clock::now()), slots_(requests_per_second * max_load_duration.count()) {
    for (int i = 0; i < load_threads; ++i) {
      workers_.emplace_back([this] { run(); });
    }
  }
  ~steady_load() { stop(); }
  steady_load(const steady_load&) = delete;
  steady_load& operator=(const steady_load&) = delete;

  void stop() {
    stop_ = true;
    for (auto& worker : workers_) {
      if (worker.joinable()) {
        worker.join();
      }
    }
  }

  milliseconds elapsed() const {
    return std::chrono::duration_cast<milliseconds>(test_clock::now() - start_);
  }
  // True once every slot was taken: the load ended by itself.
  bool exhausted() const { return next_slot_.load() >= slots_; }
  std::size_t sent() const { return sent_.load(); }
  std::vector<failure> failures() const {
    std::lock_guard lock(mutex_);
    return failures_;
  }

private:
  void run() {
    const auto period = std::chrono::duration_cast<test_clock::duration>(1s) / requests_per_second;
    for (;;) {
      const auto slot = next_slot_++;
      if (stop_ || slot >= slots_) {
        return;
      }
      std::this_thread::sleep_until(start_ + period * static_cast<long>(slot));
      if (stop_) {
        return;
      }
      // Both routes answer 200 on every instance; /__lbheartbeat__ is left out on purpose, since a
      // draining instance answers 503 there by design.
      const char* target = slot % 2 == 0 ? "/__version__" : "/__heartbeat__";
      std::string reason;
      try {
        auto response = http_get(port_, target, {}, 3s);
        if (response.status / 100 != 2) {
          reason = std::string(target) + ": HTTP " + std::to_string(response.status) + " " + clip(response.body, 80);
        }
      } catch (const std::exception& e) {
        reason = std::string(target) + ": " + clip(e.what());
      }
      ++sent_;
      if (!reason.empty()) {
        std::lock_guard lock(mutex_);
        failures_.push_back({elapsed(), std::move(reason)});
      }
    }
  }

  std::uint16_t port_;
  test_clock::time_point start_;
  std::size_t slots_;
  std::atomic<std::size_t> next_slot_{0};
  std::atomic<std::size_t> sent_{0};
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<failure> failures_;
  std::vector<std::thread> workers_;
};

// One instance behind the balancer. It keeps its port across restarts, as a task replaced in place
// keeps the address the balancer knows.
struct instance {
  std::string name;
  env_map env;
  std::unique_ptr<app_process> app;

  instance(std::string name_, const std::string& drain)
      : name(std::move(name_)), env{{"PORT", std::to_string(free_port())}, {"DOCKERFLOW_DRAIN_SECONDS", drain}} {}
  std::uint16_t port() const { return static_cast<std::uint16_t>(std::stoul(env.at("PORT"))); }
  void start() { app = std::make_unique<app_process>(app_options{.env = env}); }
};

// How many requests the app answered itself, from its request.summary lines: shows that the load
// really reached an instance before and after its restart.
std::size_t answered_by(const app_process& app) {
  std::size_t count = 0;
  for (const auto& entry : parse_log(app.stdout_lines()).of_type("request.summary")) {
    const auto path = entry["Fields"].value("path", "");
    count += path == "/__version__" || path == "/__heartbeat__";
  }
  return count;
}

struct rolling_restart_report {
  std::size_t sent = 0;
  std::vector<steady_load::failure> failures;
  milliseconds load_duration{0};
  std::ostringstream timeline;
  std::string haproxy_log;

  std::string summary() const {
    std::ostringstream out;
    out << "sent " << sent << " requests in " << load_duration.count() << " ms through haproxy, "
        << failures.size() << " failed\n";
    for (std::size_t i = 0; i < std::min<std::size_t>(failures.size(), 10); ++i) {
      out << "  failure at " << failures[i].at.count() << " ms: " << failures[i].reason << "\n";
    }
    out << "timeline (ms since the load started):\n" << timeline.str();
    return out.str();
  }
};

// haproxy's log lines for answers other than 200, and the requests it retried: what the balancer
// saw of the failures, and of the races it absorbed.
std::string balancer_view(const std::string& log) {
  std::istringstream lines(log);
  std::string line;
  std::size_t retried = 0;
  std::size_t retried_ok = 0;
  std::size_t not_ok = 0;
  std::map<std::string, std::size_t> not_ok_by_server;
  std::ostringstream errors;
  while (std::getline(lines, line)) {
    // httplog: client [date] www app/a Tq/Tw/Tc/Tr/Ta status bytes - - state act/fe/be/srv/retries ...
    std::istringstream fields(line);
    std::vector<std::string> words;
    for (std::string word; fields >> word;) {
      words.push_back(word);
    }
    if (words.size() < 11 || words[2] != "www") {
      continue;
    }
    const auto retries = words[10].substr(words[10].rfind('/') + 1);
    if (retries != "0") {
      ++retried;
      retried_ok += words[5] == "200";
    }
    if (words[5] != "200") {
      ++not_ok_by_server[words[3]];
      if (not_ok++ < 10) {
        errors << "  " << line << "\n";
      }
    }
  }
  std::string by_server;
  for (const auto& [server, count] : not_ok_by_server) {
    by_server += " " + server + "=" + std::to_string(count);
  }
  return "haproxy retried " + std::to_string(retried) + " requests (" + std::to_string(retried_ok) +
         " of them then answered 200); answers other than 200: " + std::to_string(not_ok) + by_server + "\n" +
         errors.str();
}

// SIGTERM, wait for the exit while watching haproxy's view, wait the replacement's start-up time,
// start the replacement on the same port, wait until haproxy has it back in rotation.
void restart(instance& node, haproxy_server& balancer, steady_load& load, bool expect_drain,
             rolling_restart_report& report) {
  auto& timeline = report.timeline;
  const auto answered_before = answered_by(*node.app);
  const auto signalled = load.elapsed();
  timeline << "  " << signalled.count() << " " << node.name << ": SIGTERM (it answered " << answered_before
           << " requests)\n";
  node.app->process().send_signal(SIGTERM);
  std::optional<milliseconds> down_at;
  std::optional<exit_status> status;
  for (int i = 0; i < 1500 && !status; ++i) {
    if (!down_at && balancer.server_status(node.name).rfind("DOWN", 0) == 0) {
      down_at = load.elapsed();
      timeline << "  " << down_at->count() << " " << node.name << ": haproxy has it DOWN\n";
    }
    status = node.app->wait_for_exit(10ms);
  }
  ASSERT_TRUE(status) << node.name << " still running 15 s after SIGTERM\n" << report.summary();
  const auto exited = load.elapsed();
  timeline << "  " << exited.count() << " " << node.name << ": exited, " << status->describe() << "\n";
  ASSERT_TRUE(status->success()) << node.app->stderr_text();
  EXPECT_GT(answered_before, 0u) << node.name << " never got a request through haproxy\n" << report.summary();
  if (expect_drain) {
    EXPECT_GE(exited - signalled, 2s) << node.name << " exited before DOCKERFLOW_DRAIN_SECONDS=2 had passed";
    EXPECT_TRUE(down_at) << "haproxy still had " << node.name << " in rotation when it exited";
  }

  std::this_thread::sleep_for(replacement_start_delay);
  node.start();
  timeline << "  " << load.elapsed().count() << " " << node.name << ": replacement started (pid "
           << node.app->pid() << ")\n";
  ASSERT_TRUE(balancer.wait_until_up(node.name, 10s))
      << "haproxy never saw the replacement of " << node.name << " UP\n" << report.summary();
  timeline << "  " << load.elapsed().count() << " " << node.name << ": haproxy has it UP\n";
}

// The whole sequence under load: both instances up behind haproxy, load, restart a, restart b, a
// second of load after that, stop the load.
void run_rolling_restart(const std::string& drain, rolling_restart_report& report) {
  if (!std::filesystem::exists("/usr/sbin/haproxy")) {
    GTEST_FAIL() << "/usr/sbin/haproxy not found: run scripts/setup.sh to install haproxy";
  }
  std::vector<instance> nodes;
  nodes.reserve(2);
  nodes.emplace_back("a", drain);
  nodes.emplace_back("b", drain);
  haproxy_options options;
  for (auto& node : nodes) {
    // Started from the test's own thread: children die with the thread that started them.
    node.start();
    options.servers.push_back({node.name, node.port()});
  }
  haproxy_server balancer(options);
  for (auto& node : nodes) {
    ASSERT_TRUE(balancer.wait_until_up(node.name, 10s))
        << "haproxy never saw " << node.name << " UP:\n" << balancer.log_text();
  }

  steady_load load(balancer.port());
  std::this_thread::sleep_for(1s);
  for (auto& node : nodes) {
    restart(node, balancer, load, drain != "0", report);
    if (testing::Test::HasFatalFailure()) {
      return;
    }
  }
  std::this_thread::sleep_for(1s);
  EXPECT_FALSE(load.exhausted()) << "the load ended before the restarts did: it proves nothing about them";
  load.stop();
  report.sent = load.sent();
  report.failures = load.failures();
  report.load_duration = load.elapsed();
  for (auto& node : nodes) {
    const auto answered = answered_by(*node.app);
    report.timeline << "  end " << node.name << ": the replacement answered " << answered << " requests\n";
    EXPECT_GT(answered, 0u) << "no request reached the replacement of " << node.name;
  }
  report.haproxy_log = balancer_view(balancer.log_text());
  // Enough requests went through for the restarts to have been under load the whole time.
  EXPECT_GE(report.sent, static_cast<std::size_t>(requests_per_second * report.load_duration.count() / 1000 * 9 / 10));
}

void publish(const rolling_restart_report& report) {
  std::cout << report.summary() << report.haproxy_log << std::flush;
  testing::Test::RecordProperty("requests_sent", std::to_string(report.sent));
  testing::Test::RecordProperty("requests_failed", std::to_string(report.failures.size()));
  testing::Test::RecordProperty("load_ms", std::to_string(report.load_duration.count()));
}

TEST(RollingRestart, DrainGivesZeroFailedRequests) {
  rolling_restart_report report;
  run_rolling_restart(drain_seconds, report);
  publish(report);
  EXPECT_EQ(report.failures.size(), 0u) << report.summary() << report.haproxy_log;
}

TEST(RollingRestart, WithoutDrainRequestsFail) {
  rolling_restart_report report;
  run_rolling_restart("0", report);
  publish(report);
  // If this fails, the test cannot tell the drain's effect apart from haproxy's own retries.
  EXPECT_GT(report.failures.size(), 0u) << report.summary() << report.haproxy_log;
}

} // namespace
} // namespace dockerflow::test
