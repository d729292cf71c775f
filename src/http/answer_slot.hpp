#pragma once
// Internal to the server: where one request's handler leaves its answer.

#include <dockerflow/http/router.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <utility>

namespace dockerflow::detail {

// Most handlers answer while they are being called; the heartbeat answers later, from another
// thread. An answer given during the call is taken by the session straight after it, with no
// suspension; a later one resumes the waiting session through its executor. Only the first answer
// counts: "respond exactly once" is a rule handlers can break, and a second answer must not resume
// the session twice. Owned through std::shared_ptr (the responder and the session share it).
class answer_slot : public std::enable_shared_from_this<answer_slot> {
 public:
  explicit answer_slot(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  // The handler's side: any thread, any time, any number of calls.
  void give(http_response response) {
    if (given_.exchange(true)) return;
    answer_ = std::move(response);
    auto expected = state::calling;
    if (state_.compare_exchange_strong(expected, state::answered)) return;  // the session takes it
    resume_waiting();  // the session is already waiting
  }

  // The session's side, after the handler's call returned: the answer, if it came during the call.
  std::optional<http_response> take_early() {
    if (state_.load() != state::answered) return std::nullopt;
    return std::move(answer_);
  }

  // The session's side, when take_early() had nothing: `resume` receives the answer through the
  // executor (never from inside this call), however late it comes.
  template <typename Handler>
  void wait(Handler&& resume) {
    resume_ = std::make_unique<resumer<std::decay_t<Handler>>>(std::forward<Handler>(resume));
    auto expected = state::calling;
    if (state_.compare_exchange_strong(expected, state::waiting)) return;  // give() will resume
    resume_waiting();  // answered between take_early() and now
  }

 private:
  enum class state { calling, answered, waiting };

  struct resumer_base {
    virtual ~resumer_base() = default;
    virtual void operator()(http_response response) = 0;
  };
  template <typename Handler>
  struct resumer final : resumer_base {
    explicit resumer(Handler h) : handler(std::move(h)) {}
    void operator()(http_response response) override { std::move(handler)(std::move(response)); }
    Handler handler;
  };

  // Called once, by whichever of give() and wait() comes second, after both have written their part.
  // The handler is moved out first: resuming runs the session on, which may drop the last reference
  // to this slot while the handler is still executing.
  void resume_waiting() {
    boost::asio::post(executor_, [self = shared_from_this()] {
      const auto resume = std::move(self->resume_);
      (*resume)(std::move(*self->answer_));
    });
  }

  boost::asio::any_io_executor executor_;
  std::atomic<bool> given_{false};
  std::atomic<state> state_{state::calling};
  std::optional<http_response> answer_;
  std::unique_ptr<resumer_base> resume_;
};

}  // namespace dockerflow::detail
