#pragma once

#include <dockerflow/ops/config.hpp>
#include <dockerflow/http/lifecycle.hpp>
#include <dockerflow/ops/metrics.hpp>
#include <dockerflow/ops/mozlog.hpp>
#include <dockerflow/http/router.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

namespace dockerflow {

struct server_options {
  std::size_t header_limit = 8 * 1024;               // larger headers get 431
  std::chrono::seconds request_timeout{10};          // from a request's first byte to its last header byte
  std::chrono::seconds idle_timeout{75};             // keep-alive; above common load balancers' 60 s
  std::chrono::seconds write_timeout{10};
  // request.summary lines for the Dockerflow probe paths: all, only answers >= 400, or none. Every
  // other path is always logged.
  probe_logging log_probes = probe_logging::all;
  // How many threads run the io_context; 0 when unknown. With exactly one, connections need no strand.
  unsigned loop_threads = 0;
};

// Accepts connections and runs one session per connection, each on its own strand (unless
// options.loop_threads is 1), so any number of threads may run the io_context. Stopping has two phases: drain() while the balancer takes the
// instance out of rotation, then stop().
class server {
 public:
  server(boost::asio::io_context& io, const router& routes, const mozlog& log, lifecycle& life, metrics& measure,
         server_options options = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // Binds and listens; throws boost::system::system_error when the address cannot be used.
  void listen(const boost::asio::ip::tcp::endpoint& endpoint);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  void start();

  // Marks the lifecycle as draining: every answer from now on carries Connection: close, and idle
  // keep-alive connections are closed. New connections are still accepted and served. Thread-safe.
  void drain();
  // Stops accepting and closes every connection that is not answering a request; those finish their
  // answer and then close. Thread-safe.
  void stop();
  // True once stop() was called, the listener is closed and every connection has closed.
  bool drained() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace dockerflow
