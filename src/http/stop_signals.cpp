#include <dockerflow/http/stop_signals.hpp>

#include <boost/system/system_error.hpp>

#include <cerrno>

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace dockerflow {

using error_code = boost::system::error_code;

namespace {

sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

int open_signalfd() {
  stop_signals::hold();
  const auto set = stop_set();
  const int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) throw boost::system::system_error(errno, boost::system::system_category(), "signalfd");
  return fd;
}

}  // namespace

stop_signals::stop_signals(const boost::asio::any_io_executor& executor) : fd_(executor, open_signalfd()) {}

void stop_signals::hold() {
  const auto set = stop_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void stop_signals::async_wait(std::function<void(error_code, int)> handler) {
  fd_.async_wait(boost::asio::posix::descriptor_base::wait_read, [this, handler = std::move(handler)](error_code ec) {
    if (ec) return handler(ec, 0);
    signalfd_siginfo info{};
    const auto n = ::read(fd_.native_handle(), &info, sizeof info);
    if (n == static_cast<ssize_t>(sizeof info)) return handler({}, static_cast<int>(info.ssi_signo));
    // Readable but empty: another reader took the signal first. Wait for the next.
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return async_wait(handler);
    handler(error_code(n < 0 ? errno : EIO, boost::system::system_category()), 0);
  });
}

}  // namespace dockerflow
