#pragma once

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockerflow::test {

struct app_options {
  // Added to a minimal environment. PORT defaults to a free port and HOST to 127.0.0.1 unless set
  // here; nothing comes from the test runner's own environment, so a stray DATABASE_URL there
  // cannot change a test.
  env_map env;
  std::vector<std::string> args;
  // Writes version_json into the app's working directory, where the app looks by default.
  bool write_version_file = true;
  // Wait until the port accepts connections; off for tests that expect the app to refuse to start.
  bool wait_until_ready = true;
  std::chrono::milliseconds ready_timeout = std::chrono::seconds(10);
  // Signals the app starts with blocked, as a parent may leave them.
  std::vector<int> blocked_signals;
  // Programs the binary is started through, each setting something up and exec'ing the rest, so
  // pid() is still the app's: e.g. {"prlimit", "--nofile=64:64", "--"} or {"ip", "netns", "exec", name}.
  std::vector<std::string> wrapper;
};

// The real dockerflow-app binary, started in its own temp working directory.
class app_process {
public:
  // A valid version file, with deliberate spacing and a trailing newline so a test can tell
  // whether /__version__ serves the file's bytes or re-serialises them.
  static constexpr std::string_view version_json =
      "{\"source\": \"https://github.com/example/dockerflow-app\",  \"version\": \"1.2.3\", "
      "\"commit\": \"0123456789abcdef0123456789abcdef01234567\", \"build\": \"https://ci.example.com/job/42\"}\n";

  explicit app_process(app_options options = {});

  app_process(const app_process&) = delete;
  app_process& operator=(const app_process&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  pid_t pid() const noexcept { return process_->pid(); }
  const temp_dir& dir() const noexcept { return dir_; }
  child_process& process() noexcept { return *process_; }

  std::string stdout_text() const { return process_->stdout_text(); }
  std::string stderr_text() const { return process_->stderr_text(); }
  // Complete stdout lines (a line still being written is left out).
  std::vector<std::string> stdout_lines() const;

  // SIGTERM, then wait up to `timeout` for the exit; nullopt if it did not exit in time.
  std::optional<exit_status> stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::optional<exit_status> wait_for_exit(std::chrono::milliseconds timeout) {
    return process_->wait_for(timeout);
  }

  // Where the binary under test is (set by the build).
  static std::filesystem::path binary_path();

private:
  temp_dir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<child_process> process_;
};

} // namespace dockerflow::test
