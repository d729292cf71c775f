#include <dockerflow/ops/batched_line_writer.hpp>

#include <algorithm>
#include <cerrno>

#include <poll.h>
#include <pthread.h>
#include <unistd.h>

namespace dockerflow {

batched_line_writer::batched_line_writer(options opts) : options_(opts), thread_([this] { run(); }) {
  pthread_setname_np(thread_.native_handle(), "log-writer");  // for top -H and gdb; may fail harmlessly
}

batched_line_writer::~batched_line_writer() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void batched_line_writer::append(std::string_view line) {
  bool wake = false;
  {
    const std::lock_guard lock(mutex_);
    // An empty buffer takes any line, so one longer than the bound still gets out.
    if (!pending_.empty() && pending_.size() + line.size() + 1 > options_.max_pending) drop_oldest(line.size() + 1);
    const bool below_half = pending_.size() < options_.max_pending / 2;
    pending_.append(line);
    pending_ += '\n';
    ++appended_;
    if (asleep_) {
      wake = true;
      asleep_ = false;
    } else if (gathering_ && below_half && pending_.size() >= options_.max_pending / 2) {
      wake = true;  // a burst: write now rather than drop lines later
    }
  }
  // Outside the lock, so the woken thread does not block on it at once.
  if (wake) wake_.notify_one();
}

// After a stall the newest lines matter most (what is happening now), so the oldest waiting ones
// make room: at least half of what waits at once, so that a writer stuck for long moves memory once
// per half buffer of new lines rather than once per line. Whole lines only.
void batched_line_writer::drop_oldest(std::size_t room) {
  const auto want = std::max(room, pending_.size() / 2);
  const auto cut = want >= pending_.size() ? std::string::npos : pending_.find('\n', want - 1);
  const auto end = cut == std::string::npos ? pending_.size() : cut + 1;
  dropped_ += static_cast<std::uint64_t>(std::count(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(end), '\n'));
  pending_.erase(0, end);
}

bool batched_line_writer::written_within(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  const auto target = appended_;
  return written_.wait_for(lock, limit, [&] { return finished_ >= target; });
}

std::uint64_t batched_line_writer::dropped() const {
  const std::lock_guard lock(mutex_);
  return dropped_;
}

void batched_line_writer::run() {
  std::string batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    asleep_ = true;
    wake_.wait(lock, [&] { return !pending_.empty() || stopping_; });
    asleep_ = false;
    if (pending_.empty()) return;  // stopping, and everything is written
    if (!stopping_) {
      // Appenders do not wake a thread that is awake: this wait is all the batch costs them.
      gathering_ = true;
      wake_.wait_for(lock, options_.gather,
                     [&] { return stopping_ || pending_.size() >= options_.max_pending / 2; });
      gathering_ = false;
    }
    batch.swap(pending_);  // appenders go on in the other buffer, already sized by earlier batches
    const auto lines = appended_;
    lock.unlock();
    write_out(batch);
    if (batch.capacity() > options_.keep_capacity) {
      std::string().swap(batch);
    } else {
      batch.clear();
    }
    lock.lock();
    finished_ = lines;
    written_.notify_all();
  }
}

// One write(2) for the whole batch unless the descriptor takes less.
void batched_line_writer::write_out(std::string_view batch) {
  while (!batch.empty()) {
    const auto n = ::write(options_.fd, batch.data(), batch.size());
    if (n >= 0) {
      batch.remove_prefix(static_cast<std::size_t>(n));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd ready{options_.fd, POLLOUT, 0};  // a non-blocking stdout (inherited): wait as a blocking one would
      ::poll(&ready, 1, -1);
    } else if (errno != EINTR) {
      // The lines left (the first may be partly written) are lost; a torn line ends with the next newline.
      const auto lost = static_cast<std::uint64_t>(std::count(batch.begin(), batch.end(), '\n'));
      const std::lock_guard lock(mutex_);
      dropped_ += lost;
      return;
    }
  }
}

}  // namespace dockerflow
