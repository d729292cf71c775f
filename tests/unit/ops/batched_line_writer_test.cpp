#include <dockerflow/ops/batched_line_writer.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace dockerflow {
namespace {

using namespace std::chrono_literals;

// A pipe the test reads itself, so it can also leave it unread (a stalled log collector).
class test_pipe {
 public:
  test_pipe() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    read_ = fds[0];
    write_ = fds[1];
  }
  ~test_pipe() {
    ::close(read_);
    if (write_ >= 0) ::close(write_);
  }
  test_pipe(const test_pipe&) = delete;
  test_pipe& operator=(const test_pipe&) = delete;

  int write_end() const { return write_; }
  // Everything written so far and, after `close_write`, until the writer's end is closed.
  std::string read_available(std::chrono::milliseconds wait = 200ms) {
    std::string text;
    char buffer[65536];
    pollfd ready{read_, POLLIN, 0};
    while (::poll(&ready, 1, static_cast<int>(wait.count())) > 0) {
      const auto n = ::read(read_, buffer, sizeof buffer);
      if (n <= 0) break;
      text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
  }
  void close_write() {
    ::close(write_);
    write_ = -1;
  }

 private:
  int read_ = -1;
  int write_ = -1;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(BatchedLineWriter, LinesFromManyThreadsStayWholeAndInOrder) {
  test_pipe pipe;
  std::string text;
  std::thread reader([&] { text = pipe.read_available(2000ms); });
  {
    batched_line_writer writer({.fd = pipe.write_end()});
    std::vector<std::thread> loggers;
    for (int t = 0; t < 4; ++t) {
      loggers.emplace_back([&writer, t] {
        for (int n = 0; n < 2000; ++n) writer.append("thread " + std::to_string(t) + " line " + std::to_string(n));
      });
    }
    for (auto& l : loggers) l.join();
    EXPECT_TRUE(writer.written_within(5s));
    EXPECT_EQ(writer.dropped(), 0u);
  }
  pipe.close_write();
  reader.join();
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 8000u);
  std::vector<int> next(4, 0);
  for (const auto& line : lines) {
    int t = -1;
    int n = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "thread %d line %d", &t, &n), 2) << line;
    ASSERT_TRUE(t >= 0 && t < 4) << line;
    EXPECT_EQ(n, next[t]) << "out of order: " << line;
    EXPECT_EQ(line, "thread " + std::to_string(t) + " line " + std::to_string(n));
    next[t] = n + 1;
  }
}

TEST(BatchedLineWriter, DestructionWritesWhatWaits) {
  test_pipe pipe;
  {
    batched_line_writer writer({.fd = pipe.write_end()});
    for (int n = 0; n < 100; ++n) writer.append("line " + std::to_string(n));
  }
  const auto lines = lines_of(pipe.read_available());
  ASSERT_EQ(lines.size(), 100u);
  EXPECT_EQ(lines.front(), "line 0");
  EXPECT_EQ(lines.back(), "line 99");
}

// A reader that stops: the writer blocks in write(2), appending does not, and once 4 KiB wait the
// oldest waiting lines are dropped and counted. When the pipe is read again, every line kept comes
// out whole and in order, and the newest line is among them.
TEST(BatchedLineWriter, UnreadDescriptorDropsTheOldestWaitingLinesWithoutBlocking) {
  test_pipe pipe;
  batched_line_writer writer({.fd = pipe.write_end(), .max_pending = 4096});
  const std::string filler(1000, 'x');
  // Fill the pipe (64 KiB by default) until the writer is stuck with a batch of its own.
  int sent = 0;
  const auto stuck_by = std::chrono::steady_clock::now() + 5s;
  for (; std::chrono::steady_clock::now() < stuck_by; ++sent) {
    writer.append(std::to_string(sent) + " " + filler);
    if (!writer.written_within(20ms)) break;
  }
  ASSERT_FALSE(writer.written_within(50ms)) << "the pipe never filled";

  const auto started = std::chrono::steady_clock::now();
  for (int n = 0; n < 1000; ++n) writer.append(std::to_string(sent + 1 + n) + " " + filler);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << "appending blocked on the full pipe";
  const auto dropped = writer.dropped();
  EXPECT_GT(dropped, 990u) << "no more than ~4 KiB may wait";
  EXPECT_LE(dropped, 1000u);

  std::string text;
  std::thread reader([&] { text = pipe.read_available(500ms); });
  EXPECT_TRUE(writer.written_within(5s)) << "the writer did not resume once the pipe was read";
  reader.join();
  const auto lines = lines_of(text);
  ASSERT_FALSE(lines.empty());
  // Kept: whole lines in increasing order (the batch in flight, then a gap, then the newest);
  // dropped: exactly the ones missing.
  int previous = -1;
  for (const auto& line : lines) {
    const auto space = line.find(' ');
    ASSERT_NE(space, std::string::npos) << line;
    const int n = std::stoi(line.substr(0, space));
    EXPECT_GT(n, previous) << "out of order";
    EXPECT_EQ(line, std::to_string(n) + " " + filler);
    previous = n;
  }
  EXPECT_EQ(previous, sent + 1000) << "the newest line must survive";
  EXPECT_EQ(lines.size() + dropped, static_cast<std::size_t>(sent + 1 + 1000));
}

TEST(BatchedLineWriter, FailedWritesCountAsDropped) {
  batched_line_writer writer({.fd = -1});  // EBADF
  writer.append("one");
  writer.append("two");
  EXPECT_TRUE(writer.written_within(2s)) << "a failed write still finishes its lines";
  writer.append("three");
  EXPECT_TRUE(writer.written_within(2s));
  EXPECT_EQ(writer.dropped(), 3u);
}

TEST(BatchedLineWriter, WrittenWithinWithNothingLoggedIsTrue) {
  test_pipe pipe;
  batched_line_writer writer({.fd = pipe.write_end()});
  EXPECT_TRUE(writer.written_within(0ms));
}

}  // namespace
}  // namespace dockerflow
