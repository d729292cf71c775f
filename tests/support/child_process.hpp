#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dockerflow::test {

using env_map = std::map<std::string, std::string>;

// How a child ended, decoded from waitpid's status so assertions read naturally.
struct exit_status {
  bool exited = false; // true: `code` holds the exit code; false: `signal` killed it
  int code = -1;
  int signal = 0;

  bool success() const noexcept { return exited && code == 0; }
  std::string describe() const;
};

struct child_options {
  std::vector<std::string> argv;          // argv[0] is the program; looked up in PATH when relative
  env_map env;                            // the child's whole environment: nothing is inherited
  std::filesystem::path working_dir;      // empty: the parent's working directory
  std::filesystem::path output_dir;       // where stdout.txt / stderr.txt go; required
  std::string output_name = "child";      // file name stem, so several children can share a dir
  std::vector<int> blocked_signals;       // start the program with these blocked (pending until it unblocks)
};

// A process started with fork+exec whose stdout and stderr go to files, so a test can read them at
// any time without pipes filling up and blocking the child. The destructor kills the child's whole
// process group and reaps it: a failing assertion must never leave a server running.
//
// The child also gets SIGKILL when the thread that started it ends (PR_SET_PDEATHSIG), which covers
// a test process that crashes or is killed by ctest's timeout. So start children from the test's
// own thread, never from a short-lived worker thread.
class child_process {
public:
  explicit child_process(child_options options);
  ~child_process();

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }

  // Sends `sig` to the child (not its group). Does nothing once the child has been reaped, so a
  // late signal can never hit a recycled pid.
  void send_signal(int sig);

  // Waits up to `timeout` for the child to exit; nullopt if it is still running.
  std::optional<exit_status> wait_for(std::chrono::milliseconds timeout);

  // True while the child has not exited (reaps it if it just did).
  bool running();

  // The exit status once reaped.
  const std::optional<exit_status>& status() const noexcept { return status_; }

  // Kills the child's process group with SIGKILL and reaps it.
  void kill_now();

  std::string stdout_text() const;
  std::string stderr_text() const;
  const std::filesystem::path& stdout_path() const noexcept { return stdout_path_; }
  const std::filesystem::path& stderr_path() const noexcept { return stderr_path_; }

private:
  bool try_reap(bool block);

  pid_t pid_ = -1;
  std::optional<exit_status> status_;
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
};

// Runs a command to completion (bounded by `timeout`, killed after it) and returns its status;
// stdout/stderr land in `output_dir`. Used for short tools such as initdb and pg_ctl.
struct command_result {
  exit_status status;
  std::string stdout_text;
  std::string stderr_text;
};
command_result run_command(child_options options, std::chrono::milliseconds timeout);

// The environment a tool needs to find the programs it runs: PATH plus `extra`.
env_map minimal_env(env_map extra = {});

} // namespace dockerflow::test
