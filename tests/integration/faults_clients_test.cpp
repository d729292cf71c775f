// The fault suite, client side: pressure that comes from the clients and the environment rather than
// from a dependency. A thousand idle connections and a hundred clients sending one byte per second;
// a descriptor limit (ulimit -n 64) exhausted by clients; a stdout pipe that nobody reads for 30 s.
// Throughout, /__lbheartbeat__ (sampled every 10 ms) must keep p99 under 50 ms and the app must
// neither crash nor need a restart.
#include "support/app_process.hpp"
#include "support/eventually.hpp"
#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/lbheartbeat_probe.hpp"
#include "support/log_reader.hpp"
#include "support/tcp_connection.hpp"
#include "support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace dockerflow::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto lbheartbeat_p99_bound = 50ms;

std::chrono::milliseconds since(test_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(test_clock::now() - start);
}

void expect_fast(lbheartbeat_probe& probe, const std::string& what) {
  const auto s = probe.stop();
  std::cout << "[ fault    ] " << what << ": " << s.describe() << std::endl;
  ::testing::Test::RecordProperty(what, s.describe());
  EXPECT_EQ(s.failures, 0u) << what << ": " << s.describe();
  EXPECT_GE(s.samples, 20u) << what << ": too few samples to judge";
  EXPECT_LT(s.p99, lbheartbeat_p99_bound) << what << ": " << s.describe();
}

void expect_running(app_process& app) {
  ASSERT_TRUE(app.process().running()) << "the app died: " << app.process().status()->describe()
                                       << "\nstderr: " << app.stderr_text();
}

std::size_t open_descriptors(pid_t pid) {
  std::size_t count = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    ++count;
  }
  return count;
}

// True while the peer has neither closed nor reset the connection (nothing is read from it).
bool still_open(tcp_connection& c) {
  std::string ignored;
  return c.read_some(ignored, test_clock::now()) == read_outcome::timed_out;
}

// ---------------------------------------------------------------------------------------------
// 1000 idle connections and 100 clients sending one byte per second

TEST(FaultsClients, IdleAndOneBytePerSecondClientsDoNotSlowOthers) {
  constexpr std::size_t idle_count = 1000;
  constexpr std::size_t slow_count = 100;
  // This process holds every one of those connections; the app raises its own limit at start.
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = limit.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < idle_count + slow_count + 200) {
    GTEST_SKIP() << "needs " << idle_count + slow_count + 200 << " descriptors, the hard limit is " << limit.rlim_max;
  }

  app_process app;
  lbheartbeat_probe lbheartbeat(app.port());
  lbheartbeat_probe version(app.port(), {.target = "/__version__", .keep_alive = true});

  std::vector<tcp_connection> idle;
  idle.reserve(idle_count);
  for (std::size_t i = 0; i < idle_count; ++i) idle.emplace_back(app.port(), 5s);
  std::vector<tcp_connection> slow;
  for (std::size_t i = 0; i < slow_count; ++i) slow.emplace_back(app.port(), 5s);
  // Accepted by the app, not merely queued by the kernel: it holds a descriptor for each.
  EXPECT_TRUE(eventually(5s, [&] { return open_descriptors(app.pid()) >= idle_count + slow_count; }))
      << open_descriptors(app.pid()) << " descriptors open in the app";

  // One byte per second of a request that would take ~40 s to finish: the app gives a request 10 s
  // from its first byte, then closes the connection.
  const std::string request = "GET /__lbheartbeat__ HTTP/1.1\r\nHost: slow.example\r\nX-Slow: 1\r\n\r\n";
  const auto first_byte = test_clock::now();
  std::vector<std::optional<std::chrono::milliseconds>> closed_after(slow_count);
  for (std::size_t second = 0; second < 13 && second < request.size(); ++second) {
    for (std::size_t i = 0; i < slow_count; ++i) {
      if (closed_after[i]) continue;
      try {
        if (!still_open(slow[i])) throw std::runtime_error("closed");
        slow[i].send_all(request.substr(second, 1), 1s);
      } catch (const std::exception&) {
        closed_after[i] = since(first_byte);
      }
    }
    std::this_thread::sleep_until(first_byte + std::chrono::seconds(second + 1));
  }
  std::size_t closed = 0;
  for (std::size_t i = 0; i < slow_count; ++i) {
    if (!closed_after[i] && !still_open(slow[i])) closed_after[i] = since(first_byte);
    if (closed_after[i]) {
      ++closed;
      EXPECT_GE(*closed_after[i], 9s) << "slow client " << i << " was cut before its 10 s";
    }
  }
  EXPECT_EQ(closed, slow_count) << "slow clients still open 13 s after their first byte";

  std::size_t idle_open = 0;
  for (auto& c : idle) idle_open += still_open(c) ? 1 : 0;
  EXPECT_EQ(idle_open, idle_count) << "idle connections are kept for the 75 s idle timeout";

  expect_running(app);
  expect_fast(lbheartbeat, "lbheartbeat beside 1000 idle + 100 slow clients");
  expect_fast(version, "keep-alive /__version__ beside 1000 idle + 100 slow clients");
}

// ---------------------------------------------------------------------------------------------
// ulimit -n 64, exhausted by clients

TEST(FaultsClients, DescriptorLimitExhaustedByClients) {
  // Soft and hard: the app raises its soft limit to the hard one at start.
  app_process app({.wrapper = {"prlimit", "--nofile=64:64", "--"}});
  {
    std::ifstream limits("/proc/" + std::to_string(app.pid()) + "/limits");
    std::string text((std::istreambuf_iterator<char>(limits)), std::istreambuf_iterator<char>());
    ASSERT_NE(text.find("Max open files            64                   64"), std::string::npos) << text;
  }
  // The balancer's pooled connection, open before the descriptors run out.
  lbheartbeat_probe lbheartbeat(app.port(), {.keep_alive = true});
  std::this_thread::sleep_for(100ms);

  // Connect until one is not answered: the kernel completes the handshake, the app cannot accept.
  std::vector<std::unique_ptr<http_connection>> served;
  std::unique_ptr<http_connection> waiting;
  for (int i = 0; i < 100 && !waiting; ++i) {
    auto c = std::make_unique<http_connection>(app.port(), 2s);
    c->send(make_request("GET", "/__lbheartbeat__"));
    try {
      EXPECT_EQ(c->read_response(false, 1s).status, 200);
      served.push_back(std::move(c));
    } catch (const std::runtime_error&) {
      waiting = std::move(c);
    }
  }
  ASSERT_TRUE(waiting) << "64 descriptors never ran out with " << served.size() << " clients";
  EXPECT_LT(served.size(), 64u);
  std::cout << "[ fault    ] descriptors exhausted after " << served.size() << " client connections" << std::endl;
  ASSERT_TRUE(eventually(2s, [&] { return !parse_log(app.stdout_lines()).of_type("server.accept").empty(); }))
      << "no server.accept line while accept fails";
  const auto accept_error = parse_log(app.stdout_lines()).of_type("server.accept").front();
  EXPECT_NE(accept_error["Fields"]["error"].get<std::string>().find("Too many open files"), std::string::npos)
      << accept_error.dump();
  expect_running(app);

  // Existing connections keep being served while accept fails.
  for (std::size_t i = 0; i < served.size(); ++i) {
    served[i]->send(make_request("GET", "/__version__"));
    const auto response = served[i]->read_response(false, 2s);
    EXPECT_EQ(response.status, 200) << "connection " << i;
    EXPECT_EQ(response.body, app_process::version_json);
  }

  // Descriptors free up: the waiting client is accepted and answered, and new ones are too.
  const auto freed = test_clock::now();
  served.resize(served.size() - 5);
  const auto late = waiting->read_response(false, 3s);
  EXPECT_EQ(late.status, 200);
  std::cout << "[ fault    ] the waiting client was answered " << since(freed).count()
            << " ms after 5 descriptors were freed" << std::endl;
  EXPECT_LT(since(freed), 1s);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(http_get(app.port(), "/__lbheartbeat__", {}, 2s).status, 200) << "new connection " << i;
  }
  expect_running(app);
  expect_fast(lbheartbeat, "lbheartbeat (kept-alive) while descriptors are exhausted");
}

// ---------------------------------------------------------------------------------------------
// stdout a pipe nobody reads

// A FIFO this process holds open for reading (so the app's open for writing succeeds) but never
// reads: to the app, a pipe to a stalled log collector.
class unread_pipe {
public:
  unread_pipe() {
    if (::mkfifo(path().c_str(), 0600) != 0) throw std::system_error(errno, std::generic_category(), "mkfifo");
    fd_ = ::open(path().c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "open fifo");
  }
  ~unread_pipe() { ::close(fd_); }
  unread_pipe(const unread_pipe&) = delete;
  unread_pipe& operator=(const unread_pipe&) = delete;

  fs::path path() const { return dir_ / "stdout.fifo"; }
  // The app as its own pid with stdout redirected into the FIFO (sh execs it).
  std::vector<std::string> wrapper() const { return {"sh", "-c", "exec \"$0\" \"$@\" >'" + path().string() + "'"}; }

  std::size_t buffered() const {
    int n = 0;
    return ::ioctl(fd_, FIONREAD, &n) == 0 ? static_cast<std::size_t>(n) : 0;
  }
  std::size_t capacity() const {
    const int size = ::fcntl(fd_, F_GETPIPE_SZ);
    return size > 0 ? static_cast<std::size_t>(size) : 0;
  }
  // Reads what is there now.
  std::string drain() {
    std::string text;
    char buffer[65536];
    for (ssize_t n; (n = ::read(fd_, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
    return text;
  }

private:
  temp_dir dir_{"dockerflow-fifo"};
  int fd_ = -1;
};

// Keep-alive clients that log a request.summary line per request as fast as the app answers.
class log_flood {
public:
  explicit log_flood(std::uint16_t port, int clients = 2) {
    for (int i = 0; i < clients; ++i) threads_.emplace_back([this, port](std::stop_token stop) { run(stop, port); });
  }
  ~log_flood() { stop(); }
  void stop() {
    for (auto& t : threads_) t.request_stop();
    threads_.clear();
  }
  std::size_t answered() const { return answered_; }
  std::size_t failed() const { return failed_; }

private:
  void run(const std::stop_token& stop, std::uint16_t port) {
    // A long User-Agent makes each line ~600 bytes: the 64 KiB pipe is full within ~110 requests.
    const auto request = make_request("GET", "/__version__", {{"User-Agent", std::string(400, 'a')}});
    std::unique_ptr<http_connection> c;
    while (!stop.stop_requested()) {
      try {
        if (!c) c = std::make_unique<http_connection>(port, 2s);
        c->send(request, 2s);
        ++(c->read_response(false, 2s).status == 200 ? answered_ : failed_);
      } catch (const std::exception&) {
        ++failed_;
        c.reset();
      }
      std::this_thread::sleep_for(1ms);
    }
  }
  std::atomic<std::size_t> answered_{0};
  std::atomic<std::size_t> failed_{0};
  std::vector<std::jthread> threads_;
};

// Full as a writer sees it: the pipe stops growing while the app goes on answering, and so logging.
// A write shares a page of the pipe only if it fits in the page's free tail, so how full that is
// depends on how many lines each of the app's writes carries: about 70 % of the capacity was seen
// with the writes of a busy machine (several lines each), nearly all of it with one line a write.
bool stays_full(const unread_pipe& pipe, const log_flood& flood) {
  const auto bytes = pipe.buffered();
  const auto answered = flood.answered();
  std::this_thread::sleep_for(300ms);
  return pipe.buffered() == bytes && flood.answered() > answered && bytes >= pipe.capacity() / 2;
}

TEST(FaultsClients, StdoutPipeNobodyReadsFor30Seconds) {
  unread_pipe stdout_pipe;
  const auto metrics_port = free_port();
  app_process app({.env = {{"LOG_LEVEL", "info"}, {"METRICS_PORT", std::to_string(metrics_port)}},
                   .wrapper = stdout_pipe.wrapper()});
  const auto pid = app.pid();
  lbheartbeat_probe lbheartbeat(app.port());
  log_flood flood(app.port());

  ASSERT_TRUE(eventually(5s, [&] { return stays_full(stdout_pipe, flood); }))
      << "the pipe never filled: " << stdout_pipe.buffered() << " of " << stdout_pipe.capacity() << " bytes";
  const auto full_since = test_clock::now();
  const auto full_at = stdout_pipe.buffered();
  while (since(full_since) < 30s) {
    std::this_thread::sleep_for(1s);
    ASSERT_TRUE(app.process().running()) << app.process().status()->describe() << "\n" << app.stderr_text();
    EXPECT_EQ(stdout_pipe.buffered(), full_at) << "the pipe was read or written meanwhile";
  }
  flood.stop();
  std::cout << "[ fault    ] stdout full for " << since(full_since).count() << " ms (" << stdout_pipe.buffered() << " of "
            << stdout_pipe.capacity() << " bytes): " << flood.answered() << " requests answered, " << flood.failed()
            << " failed" << std::endl;
  EXPECT_EQ(flood.failed(), 0u);
  EXPECT_GT(flood.answered(), 1000u) << "requests stalled behind the full pipe";
  expect_fast(lbheartbeat, "lbheartbeat while stdout is a full pipe for 30 s");
  // The gap is counted where monitoring sees it.
  const auto scrape = http_get(metrics_port, "/metrics").body;
  const auto at = scrape.find("\ndockerflow_log_lines_dropped_total ");
  ASSERT_NE(at, std::string::npos) << scrape;
  const auto dropped = std::stoull(scrape.substr(at + std::string_view("\ndockerflow_log_lines_dropped_total ").size()));
  std::cout << "[ fault    ] " << dropped << " log lines dropped" << std::endl;
  EXPECT_GT(dropped, 0u) << "the flood's lines cannot all have fit the pipe and the 1 MiB buffer";

  // The collector resumes: what waited was dropped as whole lines, never torn, and logging goes on.
  std::string text = stdout_pipe.drain();
  const auto marker = "after-the-stall";
  EXPECT_EQ(http_get(app.port(), "/__version__", {{"X-Request-ID", marker}}).status, 200);
  ASSERT_TRUE(eventually(5s, [&] {
    text += stdout_pipe.drain();
    return text.find(marker) != std::string::npos;
  })) << "no log line reached stdout once it was read again";
  std::vector<std::string> lines;
  for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  const auto log = parse_log(lines);
  EXPECT_TRUE(log.invalid_lines.empty()) << log.invalid_lines.size() << " torn lines, e.g. " << log.invalid_lines.front();
  EXPECT_TRUE(log.summary_for(marker)) << "the line after the stall is missing";
  EXPECT_EQ(app.pid(), pid);
  // stdout is read again, so the stop is not the subject here (see the next test).
  const auto status = app.stop(5s);
  ASSERT_TRUE(status) << "no exit within 5 s of SIGTERM";
  EXPECT_TRUE(status->success()) << status->describe();
}

// SIGTERM while stdout is full must still end the process with 0. (It used to hang: destroying the
// logger joined a writer thread blocked in write(1) on the full pipe, so an orchestrator had to
// SIGKILL it.) The logger is now never destroyed and the final lines get a bounded wait.
TEST(FaultsClients, StopsCleanlyWhileStdoutIsAFullPipe) {
  unread_pipe stdout_pipe;
  app_process app({.env = {{"LOG_LEVEL", "info"}}, .wrapper = stdout_pipe.wrapper()});
  {
    log_flood flood(app.port());
    ASSERT_TRUE(eventually(5s, [&] { return stays_full(stdout_pipe, flood); }))
        << "the pipe never filled: " << stdout_pipe.buffered() << " of " << stdout_pipe.capacity() << " bytes";
    std::this_thread::sleep_for(500ms);  // and the writer's queue behind it
  }
  const auto signalled = test_clock::now();
  app.process().send_signal(SIGTERM);
  // DOCKERFLOW_DRAIN_SECONDS is 0 here: stopping takes well under a second; Docker allows 10 s.
  const auto status = app.wait_for_exit(5s);
  std::cout << "[ fault    ] SIGTERM with stdout full: "
            << (status ? status->describe() + " after " + std::to_string(since(signalled).count()) + " ms"
                       : std::string("still running after 5 s"))
            << std::endl;
  if (!status) {
    // Diagnosis: does it finish once stdout is read again?
    const auto reading = test_clock::now();
    std::optional<exit_status> after_read;
    while (!(after_read = app.wait_for_exit(10ms)) && since(reading) < 10s) stdout_pipe.drain();
    std::cout << "[ fault    ] with stdout read again: "
              << (after_read ? after_read->describe() + " after " + std::to_string(since(reading).count()) + " ms"
                             : std::string("still running after 10 s"))
              << std::endl;
  }
  ASSERT_TRUE(status) << "the app did not exit within 5 s of SIGTERM while its stdout was full";
  EXPECT_TRUE(status->success()) << status->describe();
}

} // namespace
} // namespace dockerflow::test
