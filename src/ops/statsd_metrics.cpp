#include <dockerflow/ops/statsd_metrics.hpp>

#include <dockerflow/ops/metric_name.hpp>

#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>

namespace dockerflow {
namespace {

using steady = std::chrono::steady_clock;

class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) noexcept : fd_(fd) {}
  ~unique_fd() { reset(); }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  unique_fd& operator=(unique_fd&& other) noexcept {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    return *this;
  }
  int get() const noexcept { return fd_; }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct udp_target {
  sockaddr_storage address{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
  std::string text;  // numeric address and port, for the log

  bool operator==(const udp_target& other) const noexcept { return text == other.text; }
};

std::string numeric_address(const sockaddr* address, socklen_t length) {
  char host[NI_MAXHOST] = "";
  char port[NI_MAXSERV] = "";
  if (::getnameinfo(address, length, host, sizeof host, port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return "?";
  return std::string(host) + ":" + port;
}

// IPv4 first when the name has both, as the common statsd clients do: a daemon listening on
// 0.0.0.0 does not receive what is sent to ::1.
std::optional<udp_target> resolve(const statsd_endpoint& endpoint, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const auto service = std::to_string(endpoint.port);
  if (const int code = ::getaddrinfo(endpoint.host.c_str(), service.c_str(), &hints, &found); code != 0) {
    error = std::string("cannot resolve: ") + ::gai_strerror(code);
    return std::nullopt;
  }
  const addrinfo* chosen = found;
  for (const auto* a = found; a; a = a->ai_next)
    if (a->ai_family == AF_INET) {
      chosen = a;
      break;
    }
  std::optional<udp_target> target;
  if (chosen && chosen->ai_addrlen <= sizeof(sockaddr_storage)) {
    target.emplace();
    std::memcpy(&target->address, chosen->ai_addr, chosen->ai_addrlen);
    target->length = chosen->ai_addrlen;
    target->family = chosen->ai_family;
    target->text = numeric_address(chosen->ai_addr, chosen->ai_addrlen);
  } else {
    error = "cannot resolve: no usable address";
  }
  ::freeaddrinfo(found);
  return target;
}

// Statsd timers take fractional milliseconds: 1500 µs → "1.5", 42 µs → "0.042", 12 ms → "12".
void append_milliseconds(std::string& out, std::chrono::microseconds duration) {
  const auto micros = std::max<std::chrono::microseconds::rep>(duration.count(), 0);
  out += std::to_string(micros / 1000);
  auto fraction = static_cast<int>(micros % 1000);
  if (fraction == 0) return;
  char digits[3];
  for (int i = 2; i >= 0; --i, fraction /= 10) digits[i] = static_cast<char>('0' + fraction % 10);
  std::size_t length = 3;
  while (digits[length - 1] == '0') --length;
  out += '.';
  out.append(digits, length);
}

std::string joined_prefix(std::string_view prefix) {
  while (!prefix.empty() && prefix.back() == '.') prefix.remove_suffix(1);
  return prefix.empty() ? std::string() : std::string(prefix) + ".";
}

}  // namespace

class statsd_metrics::sender {
 public:
  sender(statsd_endpoint endpoint, mozlog log, tuning options)
      : endpoint_(std::move(endpoint)), log_(std::move(log)), tuning_(options) {}

  // From any thread: appends whole lines ("...\n"), or drops them all when the buffer is full.
  void append(std::string_view lines, std::size_t count) {
    bool datagram_ready = false;
    {
      std::lock_guard lock(mutex_);
      if (buffer_.size() + lines.size() > tuning_.buffer_limit) {
        dropped_.fetch_add(count, std::memory_order_relaxed);
        return;
      }
      const bool was_short = buffer_.size() < max_datagram;
      buffer_.append(lines);
      datagram_ready = was_short && buffer_.size() >= max_datagram;
    }
    if (datagram_ready) wake_.notify_one();
  }

  // The sending thread's whole life: wait, take what is buffered, send it; once more after stop().
  void run() {
    pthread_setname_np(pthread_self(), "statsd");
    std::string pending;
    for (bool last = false; !last;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, tuning_.flush_interval, [this] { return stopping_ || buffer_.size() >= max_datagram; });
        last = stopping_;
        pending.clear();
        pending.swap(buffer_);  // the buffer keeps the capacity of the previous round
      }
      if (!pending.empty()) flush(pending);
    }
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    finished_cv_.notify_all();
  }

  // True once the thread has sent what was buffered and ended, false if `wait` passed first.
  bool stop(std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
    return finished_cv_.wait_for(lock, wait, [this] { return finished_; });
  }

  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  std::chrono::milliseconds stop_wait() const noexcept { return tuning_.stop_wait; }

 private:
  // Whole lines into datagrams of at most max_datagram bytes, newline-separated; a line that can
  // never fit one is dropped.
  void flush(std::string_view lines) {
    const auto now = steady::now();
    if (!ready_to_send(now)) {
      dropped_.fetch_add(static_cast<std::uint64_t>(std::count(lines.begin(), lines.end(), '\n')),
                         std::memory_order_relaxed);
      return;
    }
    std::size_t start = 0;  // of the datagram being packed: a run of whole lines
    std::size_t end = 0;    // of its last line, without that line's newline
    std::size_t count = 0;  // its lines
    const auto send_packed = [&] {
      if (count > 0) send(lines.substr(start, end - start), count, now);
      count = 0;
    };
    for (std::size_t line = 0; line < lines.size();) {
      const auto newline = std::min(lines.find('\n', line), lines.size());
      if (newline - line > max_datagram) {
        send_packed();  // a datagram is one run of the buffer, so it ends before the dropped line
        dropped_.fetch_add(1, std::memory_order_relaxed);
      } else {
        if (count > 0 && newline - start > max_datagram) send_packed();
        if (count == 0) start = line;
        end = newline;
        ++count;
      }
      line = newline + 1;
    }
    send_packed();
  }

  // A resolved target and a socket of its family; looks the host up again when due.
  bool ready_to_send(steady::time_point now) {
    if (now >= next_resolve_) {
      std::string error;
      if (auto target = resolve(endpoint_, error)) {
        if (!target_ || !(*target_ == *target))
          log_.info("statsd.target", {{"host", endpoint_.host}, {"address", target->text}});
        target_ = std::move(target);
        next_resolve_ = now + tuning_.resolve_refresh;
      } else {
        next_resolve_ = now + tuning_.resolve_retry;
        if (!target_) failed(error);  // otherwise keep sending to the last known address
      }
    }
    if (!target_) return false;
    if (socket_.get() < 0 || socket_family_ != target_->family) {
      socket_ = unique_fd(::socket(target_->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      socket_family_ = target_->family;
      if (socket_.get() < 0) {
        failed("socket: " + std::generic_category().message(errno));
        return false;
      }
    }
    return true;
  }

  void send(std::string_view datagram, std::size_t count, steady::time_point now) {
    const auto* address = reinterpret_cast<const sockaddr*>(&target_->address);
    if (::sendto(socket_.get(), datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL, address,
                 target_->length) >= 0) {
      recovered();
      return;
    }
    const int error = errno;
    dropped_.fetch_add(count, std::memory_order_relaxed);
    // A full socket buffer says statsd traffic outruns the network; anything else may be a stale
    // address, so the name is looked up again soon.
    if (error != EAGAIN && error != EWOULDBLOCK && error != ENOBUFS)
      next_resolve_ = std::min(next_resolve_, now + tuning_.resolve_retry);
    failed("send to " + target_->text + ": " + std::generic_category().message(error));
  }

  // One warning when sending starts failing and one info when it works again, never one per datagram.
  void failed(const std::string& error) {
    if (std::exchange(failing_, true)) return;
    log_.warning("statsd.failing", {{"host", endpoint_.host},
                                    {"port", endpoint_.port},
                                    {"error", error},
                                    {"dropped_lines", dropped()},
                                    {"message", "statsd metrics are dropped until sending works again"}});
  }
  void recovered() {
    if (!std::exchange(failing_, false)) return;
    log_.info("statsd.recovered", {{"host", endpoint_.host}, {"port", endpoint_.port}, {"dropped_lines", dropped()}});
  }

  // Fixed at construction, read by every thread.
  const statsd_endpoint endpoint_;
  const mozlog log_;
  const tuning tuning_;

  // Shared between the callers and the sending thread.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable finished_cv_;
  std::string buffer_;
  bool stopping_ = false;
  bool finished_ = false;
  std::atomic<std::uint64_t> dropped_{0};

  // The sending thread's own.
  std::optional<udp_target> target_;
  unique_fd socket_;
  int socket_family_ = AF_UNSPEC;
  steady::time_point next_resolve_{};
  bool failing_ = false;
};

statsd_metrics::statsd_metrics(statsd_endpoint endpoint, mozlog log, tuning options)
    : prefix_(joined_prefix(endpoint.prefix)),
      sender_(std::make_shared<sender>(std::move(endpoint), std::move(log), options)),
      thread_([shared = sender_] { shared->run(); }) {}

statsd_metrics::~statsd_metrics() {
  // The thread owns a share of the sender, so leaving it behind in a hung lookup is safe.
  if (sender_->stop(sender_->stop_wait()))
    thread_.join();
  else
    thread_.detach();
}

void statsd_metrics::request(std::string_view route, unsigned status, std::chrono::microseconds duration) {
  const auto name = prefix_ + "request." + metric_name(route) + "." + std::to_string(status);
  std::string lines;
  lines.reserve(2 * name.size() + 24);
  lines.append(name).append(":1|c\n").append(name).append(":");
  append_milliseconds(lines, duration);
  lines.append("|ms\n");
  sender_->append(lines, 2);
}

void statsd_metrics::heartbeat(bool passed) {
  sender_->append(prefix_ + (passed ? "heartbeat.pass:1|c\n" : "heartbeat.fail:1|c\n"), 1);
}

void statsd_metrics::check(std::string_view name, level reported, std::chrono::milliseconds duration) {
  const auto metric = prefix_ + "check." + metric_name(name);
  std::string lines;
  lines.reserve(2 * metric.size() + 24);
  lines.append(metric).append(":");
  append_milliseconds(lines, duration);
  lines.append("|ms\n").append(metric).append(".level:").append(std::to_string(to_int(reported))).append("|g\n");
  sender_->append(lines, 2);
}

std::uint64_t statsd_metrics::dropped_lines() const noexcept { return sender_->dropped(); }

std::shared_ptr<statsd_metrics> make_statsd_metrics(const statsd_endpoint& endpoint, const mozlog& log) {
  return std::make_shared<statsd_metrics>(endpoint, log);
}

}  // namespace dockerflow
