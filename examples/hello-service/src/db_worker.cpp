#include "db_worker.hpp"

#include <pqxx/except>
#include <pqxx/nontransaction>

#include <iostream>
#include <utility>

namespace hello {
namespace {

dockerflow::http_response unavailable() { return dockerflow::router::error_response(503, "Service Unavailable"); }

}  // namespace

db_worker::db_worker(std::string conninfo, std::chrono::milliseconds timeout,
                     std::function<void(pqxx::connection&)> prepare, std::size_t max_waiting)
    : conninfo_(std::move(conninfo)),
      timeout_(timeout),
      prepare_(std::move(prepare)),
      max_waiting_(max_waiting),
      worker_([this] { work(); }),
      watchdog_([this] { watch(); }) {}

db_worker::~db_worker() {
  std::deque<job> left;
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    left.swap(waiting_);
  }
  changed_.notify_all();
  for (auto& j : left) j.respond(unavailable());
  worker_.join();
  watchdog_.join();
}

void db_worker::submit(query q, dockerflow::responder respond) {
  {
    const std::lock_guard lock(mutex_);
    if (!stopping_ && waiting_.size() < max_waiting_) {
      waiting_.push_back({std::move(q), std::move(respond), clock::now() + timeout_});
      changed_.notify_all();
      return;
    }
  }
  respond(unavailable());
}

void db_worker::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
    if (stopping_) return;
    running_ = std::move(waiting_.front());
    waiting_.pop_front();
    const query run = std::move(running_->run);
    lock.unlock();
    auto response = execute(run);
    lock.lock();
    if (!running_) continue;  // the watchdog has answered it: too late
    auto respond = std::move(running_->respond);
    running_.reset();
    lock.unlock();
    respond(std::move(response));
    lock.lock();
  }
}

// The query in flight started before any that wait, so its deadline is always the nearest.
void db_worker::watch() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    job* oldest = running_ ? &*running_ : waiting_.empty() ? nullptr : &waiting_.front();
    if (!oldest) {
      changed_.wait(lock);
    } else if (clock::now() < oldest->deadline) {
      changed_.wait_until(lock, oldest->deadline);
    } else {
      auto respond = std::move(oldest->respond);
      if (running_) {
        running_.reset();
      } else {
        waiting_.pop_front();
      }
      lock.unlock();
      respond(unavailable());
      lock.lock();
    }
  }
}

dockerflow::http_response db_worker::execute(const query& run) {
  try {
    if (!connection_) connection_ = connect();
    auto response = run(*connection_);
    report(false, "");
    return response;
  } catch (const pqxx::failure& e) {  // unreachable, broken, timed out, refused by the server
    if (!connection_ || !connection_->is_open()) connection_.reset();
    report(true, e.what());
    return unavailable();
  } catch (const std::exception& e) {
    std::cerr << "hello-service: query failed: " << e.what() << "\n";
    return dockerflow::router::error_response(500, "Internal Server Error");
  }
}

std::unique_ptr<pqxx::connection> db_worker::connect() const {
  auto connection = std::make_unique<pqxx::connection>(conninfo_);
  {
    pqxx::nontransaction session(*connection);
    session.exec("SET statement_timeout = " + std::to_string(timeout_.count()));
  }
  prepare_(*connection);
  return connection;
}

// One line on stderr when the database starts failing and one when it answers again, not one per
// request: stdout carries only mozlog lines, and an outage must not flood either.
void db_worker::report(bool failing, std::string_view what) {
  if (failing == failing_) return;
  failing_ = failing;
  if (failing) {
    std::cerr << "hello-service: database failing: " << what.substr(0, what.find('\n')) << "\n";
  } else {
    std::cerr << "hello-service: database answering again\n";
  }
}

}  // namespace hello
