#pragma once

#include <dockerflow/http/router.hpp>

#include <pqxx/connection>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace hello {

// Database work off the event loop. One thread owns the connection (a libpqxx connection is not
// thread-safe) and runs queries in arrival order; a handler hands over a query and its responder and
// returns at once. Every request is answered within `timeout` of its arrival: 503 when too many wait,
// when the database fails, or when the answer would be late. Only a clock can tell the last case: a
// hung server (stopped, swapping) still completes TCP, so libpq would wait for it for ever.
class db_worker {
 public:
  // Runs on the worker thread with an open connection; what it throws becomes a 503 (a database
  // failure) or a 500 (anything else).
  using query = std::function<dockerflow::http_response(pqxx::connection&)>;
  using clock = std::chrono::steady_clock;

  // `prepare` runs on every new connection, e.g. to create the schema. Queries are also cut off by the
  // server after `timeout` (statement_timeout), so a slow one does not hold up the queue behind it.
  db_worker(std::string conninfo, std::chrono::milliseconds timeout, std::function<void(pqxx::connection&)> prepare,
            std::size_t max_waiting = 256);
  // Answers what still waits with 503 and joins the threads, after the query in flight.
  ~db_worker();
  db_worker(const db_worker&) = delete;
  db_worker& operator=(const db_worker&) = delete;

  // From any thread; `respond` is called once, from the worker, the watchdog or the caller's thread.
  void submit(query q, dockerflow::responder respond);

 private:
  struct job {
    query run;
    dockerflow::responder respond;
    clock::time_point deadline;
  };
  void work();   // the worker thread: runs queries
  void watch();  // the watchdog thread: answers late requests
  dockerflow::http_response execute(const query& run);
  std::unique_ptr<pqxx::connection> connect() const;
  void report(bool failing, std::string_view what);

  const std::string conninfo_;
  const std::chrono::milliseconds timeout_;
  const std::function<void(pqxx::connection&)> prepare_;
  const std::size_t max_waiting_;
  std::unique_ptr<pqxx::connection> connection_;  // worker thread only
  bool failing_ = false;                           // worker thread only

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<job> waiting_;     // oldest first, so also in deadline order
  std::optional<job> running_;  // the query in flight, until someone answers it
  bool stopping_ = false;
  std::thread worker_;    // last: started once everything above exists
  std::thread watchdog_;
};

}  // namespace hello
