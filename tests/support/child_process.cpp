#include "support/child_process.hpp"

#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace dockerflow::test {
namespace {

// Owned C strings for execve, built before fork because only async-signal-safe calls are allowed
// between fork and exec in a process that may have other threads.
struct c_string_array {
  std::vector<std::string> storage;
  std::vector<char*> pointers;

  void finish() {
    pointers.clear();
    for (auto& s : storage) {
      pointers.push_back(s.data());
    }
    pointers.push_back(nullptr);
  }
};

int open_output(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), "open " + path.string());
  }
  return fd;
}

std::string resolve_program(const std::string& program, const env_map& env) {
  if (program.find('/') != std::string::npos) {
    return program;
  }
  // execve does not search PATH, and execvpe would search the parent's PATH; use the child's.
  auto it = env.find("PATH");
  std::string path = it != env.end() ? it->second : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) {
      end = path.size();
    }
    auto candidate = std::filesystem::path(path.substr(start, end - start)) / program;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
    start = end + 1;
  }
  throw std::runtime_error("program not found in PATH: " + program);
}

[[noreturn]] void child_fail(int report_fd) {
  int error = errno;
  // Best effort: the parent reads this errno from the close-on-exec pipe.
  [[maybe_unused]] auto written = ::write(report_fd, &error, sizeof error);
  ::_exit(127);
}

} // namespace

std::string exit_status::describe() const {
  if (exited) {
    return "exit code " + std::to_string(code);
  }
  return std::string("killed by signal ") + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
}

child_process::child_process(child_options options) {
  if (options.argv.empty()) {
    throw std::invalid_argument("child_process: empty argv");
  }
  if (options.output_dir.empty()) {
    throw std::invalid_argument("child_process: output_dir is required");
  }
  stdout_path_ = options.output_dir / (options.output_name + ".stdout.txt");
  stderr_path_ = options.output_dir / (options.output_name + ".stderr.txt");

  std::string program = resolve_program(options.argv.front(), options.env);
  c_string_array argv{options.argv, {}};
  argv.finish();
  c_string_array envp;
  for (const auto& [key, value] : options.env) {
    envp.storage.push_back(key + "=" + value);
  }
  envp.finish();

  int out_fd = open_output(stdout_path_);
  int err_fd = open_output(stderr_path_);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int report[2];
  if (null_fd < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    int error = errno;
    ::close(out_fd);
    ::close(err_fd);
    throw std::system_error(error, std::generic_category(), "child_process setup");
  }
  const char* working_dir = options.working_dir.empty() ? nullptr : options.working_dir.c_str();
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid == 0) {
    // Own process group: the destructor can kill processes the child starts (runuser forks, for one).
    ::setpgid(0, 0);
    // If the test process dies without running destructors (crash, ctest timeout), take the child
    // down with it instead of leaving a server bound to a port.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      ::_exit(127);
    }
    // Children must not inherit a blocked or ignored SIGPIPE/SIGTERM from the test runner.
    // (unless the test asks for them blocked, to model a signal arriving before the program is ready).
    sigset_t mask;
    sigemptyset(&mask);
    for (const int sig : options.blocked_signals) sigaddset(&mask, sig);
    ::sigprocmask(SIG_SETMASK, &mask, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    if (::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(out_fd, STDOUT_FILENO) < 0 ||
        ::dup2(err_fd, STDERR_FILENO) < 0) {
      child_fail(report[1]);
    }
    if (working_dir != nullptr && ::chdir(working_dir) != 0) {
      child_fail(report[1]);
    }
    // Nothing but stdin, stdout and stderr reaches the program: not the runner's log files or
    // pipes, not another test's sockets. Close-on-exec rather than closed, so the report pipe
    // still works until the exec succeeds.
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execve(program.c_str(), argv.pointers.data(), envp.pointers.data());
    child_fail(report[1]);
  }
  int fork_error = errno;
  ::close(out_fd);
  ::close(err_fd);
  ::close(null_fd);
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    throw std::system_error(fork_error, std::generic_category(), "fork");
  }
  pid_ = pid;
  // Also set the group from the parent so a signal to the group right after construction cannot
  // race the child's own setpgid.
  ::setpgid(pid_, pid_);

  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n > 0) {
    try_reap(true);
    throw std::system_error(child_errno, std::generic_category(), "exec " + program);
  }
}

child_process::~child_process() {
  kill_now();
}

void child_process::kill_now() {
  if (status_ || pid_ <= 0) {
    return;
  }
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  try_reap(true);
}

void child_process::send_signal(int sig) {
  if (!status_ && pid_ > 0) {
    ::kill(pid_, sig);
  }
}

bool child_process::try_reap(bool block) {
  if (status_) {
    return true;
  }
  int raw = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &raw, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) {
    return false;
  }
  exit_status s;
  if (WIFEXITED(raw)) {
    s.exited = true;
    s.code = WEXITSTATUS(raw);
  } else if (WIFSIGNALED(raw)) {
    s.signal = WTERMSIG(raw);
  }
  status_ = s;
  // Processes the child left behind in its group (a daemonised grandchild, say) go too.
  ::kill(-pid_, SIGKILL);
  return true;
}

std::optional<exit_status> child_process::wait_for(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!try_reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return status_;
}

bool child_process::running() {
  return !try_reap(false);
}

std::string child_process::stdout_text() const {
  return read_file(stdout_path_);
}

std::string child_process::stderr_text() const {
  return read_file(stderr_path_);
}

command_result run_command(child_options options, std::chrono::milliseconds timeout) {
  std::string name = options.argv.empty() ? "" : options.argv.front();
  child_process child(std::move(options));
  auto status = child.wait_for(timeout);
  if (!status) {
    child.kill_now();
    throw std::runtime_error("command timed out: " + name + "\nstderr: " + child.stderr_text());
  }
  return {*status, child.stdout_text(), child.stderr_text()};
}

env_map minimal_env(env_map extra) {
  extra.try_emplace("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  // The sanitizer tiers set where reports go and that any report ends the process; the app under
  // test must get the same options as the test runner, or its reports would go unseen.
  for (const char* name : {"ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) {
      extra.try_emplace(name, value);
    }
  }
  return extra;
}

} // namespace dockerflow::test
