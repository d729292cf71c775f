#include "support/lbheartbeat_probe.hpp"

#include "support/http_client.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>

namespace dockerflow::test {
namespace {

using std::chrono::microseconds;

std::string milliseconds_text(microseconds value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f ms", static_cast<double>(value.count()) / 1000.0);
  return text;
}

} // namespace

std::string latency_summary::describe() const {
  std::string text = "n=" + std::to_string(samples) + " p50=" + milliseconds_text(p50) +
                     " p99=" + milliseconds_text(p99) + " max=" + milliseconds_text(max) +
                     " failures=" + std::to_string(failures);
  if (!first_failure.empty()) {
    text += " (first: " + first_failure + ")";
  }
  return text;
}

microseconds quantile(std::vector<microseconds> samples, double p) {
  if (samples.empty()) {
    return microseconds(0);
  }
  std::sort(samples.begin(), samples.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(samples.size())));
  return samples[std::clamp<std::size_t>(rank, 1, samples.size()) - 1];
}

lbheartbeat_probe::lbheartbeat_probe(std::uint16_t port, lbheartbeat_probe_options options)
    : port_(port), options_(std::move(options)) {
  // A kept-alive connection is opened here, on the caller's thread, so it exists before the fault
  // that the caller starts next (a descriptor limit, say).
  std::unique_ptr<http_connection> first;
  if (options_.keep_alive) {
    first = std::make_unique<http_connection>(port_, options_.timeout);
  }
  thread_ = std::jthread(
      [this](std::stop_token stop, std::unique_ptr<http_connection> kept) { run(stop, std::move(kept)); },
      std::move(first));
}

lbheartbeat_probe::~lbheartbeat_probe() { stop(); }

void lbheartbeat_probe::record(microseconds took, bool ok, const std::string& failure) {
  const std::lock_guard lock(mutex_);
  latencies_.push_back(took);
  if (!ok) {
    ++failures_;
    if (first_failure_.empty()) {
      first_failure_ = failure;
    }
  }
}

void lbheartbeat_probe::run(std::stop_token stop, std::unique_ptr<http_connection> kept) {
  const auto request = make_request("GET", options_.target, {{"User-Agent", "lbheartbeat-probe"}});
  auto next = test_clock::now();
  while (!stop.stop_requested()) {
    const auto start = test_clock::now();
    bool ok = false;
    std::string failure;
    try {
      std::optional<http_connection> fresh;
      if (!options_.keep_alive) {
        fresh.emplace(port_, options_.timeout);
      } else if (!kept) {
        kept = std::make_unique<http_connection>(port_, options_.timeout);
      }
      auto& connection = fresh ? *fresh : *kept;
      connection.send(request, options_.timeout);
      const auto response = connection.read_response(false, options_.timeout);
      ok = response.status == 200;
      if (!ok) {
        failure = "status " + std::to_string(response.status);
      }
    } catch (const std::exception& e) {
      failure = e.what();
      kept.reset();
    }
    record(std::min(std::chrono::duration_cast<microseconds>(test_clock::now() - start),
                    std::chrono::duration_cast<microseconds>(options_.timeout)),
           ok, failure);
    next += options_.interval;
    const auto now = test_clock::now();
    if (next < now) {
      next = now;  // a slow probe delays the series; it does not make the next ones burst
    }
    std::this_thread::sleep_until(next);
  }
}

latency_summary lbheartbeat_probe::summary() const {
  const std::lock_guard lock(mutex_);
  latency_summary s;
  s.failures = failures_;
  s.samples = latencies_.size() - failures_;
  s.first_failure = first_failure_;
  s.p50 = quantile(latencies_, 0.50);
  s.p99 = quantile(latencies_, 0.99);
  s.max = latencies_.empty() ? microseconds(0) : *std::max_element(latencies_.begin(), latencies_.end());
  return s;
}

latency_summary lbheartbeat_probe::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  return summary();
}

} // namespace dockerflow::test
