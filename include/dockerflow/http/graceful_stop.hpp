#pragma once

#include <dockerflow/ops/mozlog.hpp>
#include <dockerflow/http/server.hpp>
#include <dockerflow/http/stop_signals.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <vector>

namespace dockerflow {

struct stop_timing {
  std::chrono::seconds drain{5};                // serving on after the first signal, while balancers notice
  std::chrono::milliseconds finish_limit{3000};  // then how long answers in flight may still take
};

// The way out, started by the first SIGTERM or SIGINT in `signals`:
//   drain (/__lbheartbeat__ 503, Connection: close, listener open) → stop accepting → answers in flight
//   finish → the io_context stops.
// A second signal stops the io_context at once. Runs on the executor of `signals`, which must be a
// strand when several threads run the io_context.
class graceful_stop {
 public:
  // `servers` drain and stop together (the public port, and the metrics port when there is one).
  graceful_stop(boost::asio::io_context& io, stop_signals& signals, std::vector<server*> servers,
                const mozlog& log, stop_timing timing);
  graceful_stop(const graceful_stop&) = delete;
  graceful_stop& operator=(const graceful_stop&) = delete;

  // Starts waiting for the first signal; one that came before is handled too.
  void arm();

 private:
  void begin_drain(int signal);
  void begin_stop();
  void wait_until_drained(std::chrono::steady_clock::time_point limit);

  boost::asio::io_context& io_;
  stop_signals& signals_;
  std::vector<server*> servers_;
  const mozlog& log_;
  stop_timing timing_;
  boost::asio::steady_timer timer_;
};

}  // namespace dockerflow
