#pragma once

#include <dockerflow/ops/config.hpp>
#include <dockerflow/ops/metrics.hpp>
#include <dockerflow/ops/mozlog.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace dockerflow {

// Plain statsd lines, every one starting with the endpoint's prefix:
//   <prefix>.request.<route>.<status>:1|c     <prefix>.request.<route>.<status>:<ms>|ms
//   <prefix>.heartbeat.pass:1|c               <prefix>.heartbeat.fail:1|c
//   <prefix>.check.<name>:<ms>|ms             <prefix>.check.<name>.level:<0..50>|g
// Callers only append to a bounded buffer under a mutex; a thread of its own resolves the host,
// packs whole lines into datagrams of at most max_datagram bytes and sends them without waiting.
// Statsd is best effort by design: when it is down, unreachable or slow, lines are dropped and
// counted, and the service behaves exactly as without it.
class statsd_metrics final : public metrics {
 public:
  // The largest payload that fits a 1500-byte Ethernet frame after IPv6 and UDP headers, with room
  // for options (the value statsd clients commonly use); larger datagrams would be fragmented.
  static constexpr std::size_t max_datagram = 1432;

  struct tuning {
    // Lines waiting to be sent; when statsd cannot keep up the newest are dropped, not buffered.
    std::size_t buffer_limit = 64 * 1024;
    // Lines wait at most this long, unless a datagram's worth is ready sooner.
    std::chrono::milliseconds flush_interval{100};
    // After a failed lookup or send, the host is looked up again no sooner than this.
    std::chrono::milliseconds resolve_retry{5000};
    // A name's address can change (a restarted container): it is looked up again this often.
    std::chrono::milliseconds resolve_refresh{60000};
    // The destructor waits this long for the last flush. A lookup can hang inside getaddrinfo for
    // the resolver's whole timeout, and shutting down must not wait for it.
    std::chrono::milliseconds stop_wait{1000};
  };

  statsd_metrics(statsd_endpoint endpoint, mozlog log, tuning options);
  statsd_metrics(statsd_endpoint endpoint, mozlog log) : statsd_metrics(std::move(endpoint), std::move(log), tuning{}) {}
  ~statsd_metrics() override;

  statsd_metrics(const statsd_metrics&) = delete;
  statsd_metrics& operator=(const statsd_metrics&) = delete;

  void request(std::string_view route, unsigned status, std::chrono::microseconds duration) override;
  void heartbeat(bool passed) override;
  void check(std::string_view name, level reported, std::chrono::milliseconds duration) override;

  // Lines that never reached a successful send: buffer full, too long for a datagram, host not
  // resolved, or the send failed.
  std::uint64_t dropped_lines() const noexcept;

 private:
  // The buffer and the socket, shared with the sending thread, which may outlive this object (see
  // tuning::stop_wait).
  class sender;

  std::string prefix_;  // with its trailing '.', or empty
  std::shared_ptr<sender> sender_;
  std::thread thread_;
};

std::shared_ptr<statsd_metrics> make_statsd_metrics(const statsd_endpoint& endpoint, const mozlog& log);

}  // namespace dockerflow
