#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dockerflow::test {

class http_connection;

// Response times of one probe series: what a load balancer saw while a fault was in force.
struct latency_summary {
  std::size_t samples = 0;  // answered with 200
  std::size_t failures = 0; // errors, timeouts and other statuses
  std::chrono::microseconds p50{0};
  std::chrono::microseconds p99{0};
  std::chrono::microseconds max{0};
  std::string first_failure;

  // "n=412 p50=0.41 ms p99=2.13 ms max=7.90 ms failures=0", to quote in a report.
  std::string describe() const;
};

// The p-th quantile (0 < p <= 1) by the nearest-rank method; zero for no samples.
std::chrono::microseconds quantile(std::vector<std::chrono::microseconds> samples, double p);

struct lbheartbeat_probe_options {
  std::string target = "/__lbheartbeat__";
  std::chrono::milliseconds interval = std::chrono::milliseconds(10);
  // A probe slower than this counts as a failure (and as a latency of `timeout`).
  std::chrono::milliseconds timeout = std::chrono::seconds(2);
  // false: a new connection per probe, as most balancers do. true: one kept-alive connection, opened
  // when the probe starts (reopened after a failure): what a balancer with pooled connections sees.
  bool keep_alive = false;
};

// A background thread that requests /__lbheartbeat__ every `interval` and records how long each
// answer took, from before the connect to the last byte. Start it before a fault, stop it after:
// the summary says whether the load balancer's probe was affected.
class lbheartbeat_probe {
public:
  explicit lbheartbeat_probe(std::uint16_t port, lbheartbeat_probe_options options = {});
  ~lbheartbeat_probe();

  lbheartbeat_probe(const lbheartbeat_probe&) = delete;
  lbheartbeat_probe& operator=(const lbheartbeat_probe&) = delete;

  // Ends the series (joins the thread) and summarises it; later calls return the same summary.
  latency_summary stop();
  // The series so far, without stopping it.
  latency_summary summary() const;

private:
  void run(std::stop_token stop, std::unique_ptr<http_connection> kept);
  void record(std::chrono::microseconds took, bool ok, const std::string& failure);

  std::uint16_t port_;
  lbheartbeat_probe_options options_;
  mutable std::mutex mutex_;
  std::vector<std::chrono::microseconds> latencies_;
  std::size_t failures_ = 0;
  std::string first_failure_;
  std::jthread thread_;
};

} // namespace dockerflow::test
