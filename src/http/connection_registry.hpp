#pragma once
// Internal to the server: the connections it has open, so a drain or a stop can reach them.

#include <boost/asio/post.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace dockerflow::detail {

// Where a connection is in its loop. Read and written only on the connection's strand.
enum class connection_phase {
  fresh,    // accepted, no request byte yet
  idle,     // between requests on a kept-alive connection
  reading,  // a request has started arriving
  busy,     // a whole request is being answered: a stop lets it finish
};

// The connection's deadline is checked by the server's periodic sweep rather than by a timer per
// operation: arming and cancelling a timer for every read and write cost more than parsing the request.
class deadline {
 public:
  using clock = std::chrono::steady_clock;
  void expires_after(clock::duration d) noexcept { at_.store((clock::now() + d).time_since_epoch().count()); }
  void expires_never() noexcept { at_.store(never); }
  bool passed(clock::time_point now) const noexcept { return at_.load() <= now.time_since_epoch().count(); }

 private:
  static constexpr clock::rep never = std::numeric_limits<clock::rep>::max();
  std::atomic<clock::rep> at_{never};  // set on the connection's strand, read by the sweep's
};

struct connection {
  explicit connection(boost::asio::ip::tcp::socket socket) : stream(std::move(socket)) {}
  boost::beast::tcp_stream stream;  // never given an expiry of its own: see deadline
  detail::deadline deadline;
  connection_phase phase = connection_phase::fresh;
  bool refused = false;  // answered a refusal: unread request bytes may follow
  std::string head;      // the answer's head, rendered anew for each answer into the same storage
};

// Shared by the server and every session (each holds it through its registration), so it outlives
// whichever goes last: the io_context's destructor destroys suspended sessions after the server is gone.
class connection_registry : public std::enable_shared_from_this<connection_registry> {
  using list = std::list<std::shared_ptr<connection>>;

 public:
  // Erases its connection however the session ends, including destruction of its suspended coroutine.
  class registration {
   public:
    registration(std::shared_ptr<connection_registry> owner, list::iterator entry)
        : owner_(std::move(owner)), entry_(entry) {}
    registration(registration&& other) noexcept : owner_(std::move(other.owner_)), entry_(other.entry_) {}
    registration(const registration&) = delete;
    registration& operator=(const registration&) = delete;
    registration& operator=(registration&&) = delete;
    ~registration() {
      if (owner_) owner_->erase(entry_);
    }

   private:
    std::shared_ptr<connection_registry> owner_;
    list::iterator entry_;
  };

  registration add(std::shared_ptr<connection> c) {
    const std::lock_guard lock(mutex_);
    return registration(shared_from_this(), connections_.insert(connections_.end(), std::move(c)));
  }

  std::size_t size() const {
    const std::lock_guard lock(mutex_);
    return connections_.size();
  }

  // Cancels, on its own strand, the pending operation of every connection whose deadline has passed
  // (and still has when its strand gets to it): the read or write then ends with operation_aborted.
  void cancel_expired(deadline::clock::time_point now) {
    const std::lock_guard lock(mutex_);
    for (const auto& c : connections_) {
      if (!c->deadline.passed(now)) continue;
      boost::asio::post(c->stream.get_executor(), [c, now] {
        if (c->deadline.passed(now)) c->stream.cancel();
      });
    }
  }

  // Cancels, on each connection's own strand, the pending operation of every connection that is in
  // one of `phases` when its strand gets to it.
  void cancel_in(std::vector<connection_phase> phases) {
    list snapshot;
    {
      const std::lock_guard lock(mutex_);
      snapshot = connections_;
    }
    for (auto& c : snapshot) {
      auto& stream = c->stream;
      boost::asio::post(stream.get_executor(), [c = std::move(c), phases] {
        for (const auto p : phases)
          if (c->phase == p) return c->stream.cancel();
      });
    }
  }

 private:
  void erase(list::iterator entry) {
    const std::lock_guard lock(mutex_);
    connections_.erase(entry);
  }

  mutable std::mutex mutex_;
  list connections_;
};

}  // namespace dockerflow::detail
