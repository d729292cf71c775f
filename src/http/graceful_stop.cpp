#include <dockerflow/http/graceful_stop.hpp>

#include <algorithm>

namespace dockerflow {

using error_code = boost::system::error_code;

graceful_stop::graceful_stop(boost::asio::io_context& io, stop_signals& signals, std::vector<server*> servers,
                             const mozlog& log, stop_timing timing)
    : io_(io), signals_(signals), servers_(std::move(servers)), log_(log), timing_(timing),
      timer_(signals.get_executor()) {}

void graceful_stop::arm() {
  signals_.async_wait([this](error_code ec, int signal) {
    if (!ec) begin_drain(signal);
  });
}

void graceful_stop::begin_drain(int signal) {
  log_.info("server.draining", {{"signal", signal}, {"drain_seconds", timing_.drain.count()}});
  for (auto* s : servers_) s->drain();
  // A second signal means "now": an operator (or docker-compose's second Ctrl-C) is done waiting.
  signals_.async_wait([this](error_code ec, int again) {
    if (ec) return;
    log_.warning("server.interrupted", {{"signal", again}});
    io_.stop();
  });
  timer_.expires_after(timing_.drain);
  timer_.async_wait([this](error_code ec) {
    if (!ec) begin_stop();
  });
}

void graceful_stop::begin_stop() {
  log_.info("server.stopping", nlohmann::json::object());
  for (auto* s : servers_) s->stop();
  wait_until_drained(std::chrono::steady_clock::now() + timing_.finish_limit);
}

void graceful_stop::wait_until_drained(std::chrono::steady_clock::time_point limit) {
  if (std::all_of(servers_.begin(), servers_.end(), [](const server* s) { return s->drained(); })) return io_.stop();
  if (std::chrono::steady_clock::now() >= limit) {
    log_.warning("server.stop_timeout", {{"finish_limit_ms", timing_.finish_limit.count()}});
    return io_.stop();
  }
  timer_.expires_after(std::chrono::milliseconds(20));
  timer_.async_wait([this, limit](error_code ec) {
    if (!ec) wait_until_drained(limit);
  });
}

}  // namespace dockerflow
