#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>

#include <functional>

namespace dockerflow {

// SIGINT and SIGTERM, read on the event loop from a signalfd instead of caught by a handler. A handler
// runs in whichever thread the kernel picks and, under a runtime that defers handlers (ThreadSanitizer
// does), may run late or not at all; a blocked signal instead waits in the kernel until it is read, so
// none is lost, including one sent during start-up.
//
// The signals must stay blocked in every thread, or the kernel's default action (exit) takes them
// there. hold() blocks them in the calling thread, and threads started afterwards inherit that:
// service_main calls it first thing, and the constructor calls it too. A program that starts threads
// before either must block the two signals in them itself.
class stop_signals {
 public:
  // Throws boost::system::system_error when the signalfd cannot be made.
  explicit stop_signals(const boost::asio::any_io_executor& executor);

  // Blocks SIGINT and SIGTERM in the calling thread.
  static void hold();

  // Calls `handler` with the next signal's number (one at a time, in the order they came), or with an
  // error when the descriptor failed or was closed.
  void async_wait(std::function<void(boost::system::error_code, int)> handler);

  boost::asio::any_io_executor get_executor() { return fd_.get_executor(); }

 private:
  boost::asio::posix::stream_descriptor fd_;
};

}  // namespace dockerflow
