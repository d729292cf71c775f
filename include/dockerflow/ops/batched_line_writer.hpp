#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace dockerflow {

// Writes lines to a file descriptor from a thread of its own, so that whoever logs never waits for
// the descriptor (a stdout pipe nobody reads must not stall the event loop). Lines wait in one
// buffer; the thread takes all of them at once and writes them with one write(2), so a busy server
// pays one system call per batch, not per line. The thread is woken only when it sleeps, and once
// woken it lets lines gather for `gather` (or until half of `max_pending` waits) before it writes:
// on a loop that shares its core with the thread (one CPU, or taskset), waking it per line would
// cost a context switch per line.
//
// Lines stay whole and in order. When `max_pending` bytes already wait, the oldest waiting lines
// are dropped (at least half of them at once) and counted: after a stall a reader sees a gap, never
// a torn line, and always the newest lines. The buffers grow as needed and are reused; after a
// burst beyond `keep_capacity` bytes they are given back.
class batched_line_writer {
 public:
  struct options {
    int fd = 1;
    std::size_t max_pending = std::size_t{1} << 20;
    std::size_t keep_capacity = std::size_t{64} << 10;
    std::chrono::microseconds gather{1000};  // lines wait at most this much longer to be written
  };

  explicit batched_line_writer(options opts);
  // Writes what waits, then joins the thread: blocks for as long as the descriptor does.
  ~batched_line_writer();
  batched_line_writer(const batched_line_writer&) = delete;
  batched_line_writer& operator=(const batched_line_writer&) = delete;

  // Queues `line` and a newline. Never blocks on the descriptor.
  void append(std::string_view line);

  // Waits up to `limit` until every line appended so far has been written (or lost to a failed
  // write). False when the thread is stuck in write(2).
  bool written_within(std::chrono::milliseconds limit);

  // Lines never written: the buffer was full, or the descriptor failed (EPIPE, EBADF, ...).
  std::uint64_t dropped() const;

 private:
  void run();
  void write_out(std::string_view batch);
  void drop_oldest(std::size_t room);  // with mutex_ held

  const options options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;     // pending lines or stop, for the thread
  std::condition_variable written_;  // a batch is out, for written_within
  std::string pending_;
  std::uint64_t appended_ = 0;  // lines queued so far
  std::uint64_t finished_ = 0;  // of those, lines the thread is done with
  std::uint64_t dropped_ = 0;
  bool asleep_ = false;     // waiting for a line: the next one wakes it
  bool gathering_ = false;  // letting lines gather: only a half-full buffer wakes it
  bool stopping_ = false;
  std::thread thread_;  // last: it starts once everything above exists
};

}  // namespace dockerflow
