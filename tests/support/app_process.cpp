#include "support/app_process.hpp"

#include "support/free_port.hpp"
#include "support/tcp_connection.hpp"

#include <signal.h>

#include <stdexcept>
#include <thread>

#ifndef DOCKERFLOW_APP_PATH
#define DOCKERFLOW_APP_PATH ""
#endif

namespace dockerflow::test {

using namespace std::chrono_literals;

std::filesystem::path app_process::binary_path() {
  std::filesystem::path path = DOCKERFLOW_APP_PATH;
  if (path.empty() || !std::filesystem::exists(path)) {
    throw std::runtime_error("dockerflow-app binary not found (DOCKERFLOW_APP_PATH=\"" + path.string() +
                             "\"): build the dockerflow-app target first");
  }
  return path;
}

app_process::app_process(app_options options) : dir_("dockerflow-app") {
  env_map env = minimal_env(options.env);
  if (auto it = env.find("PORT"); it == env.end()) {
    port_ = free_port();
    env["PORT"] = std::to_string(port_);
  } else {
    // Tests that pass an invalid PORT never wait for readiness, so a non-number is fine here.
    try {
      port_ = static_cast<std::uint16_t>(std::stoul(it->second));
    } catch (const std::exception&) {
      port_ = 0;
    }
  }
  env.try_emplace("HOST", "127.0.0.1");
  // Most tests stop the app many times; the drain on SIGTERM is tested where it is the subject.
  env.try_emplace("DOCKERFLOW_DRAIN_SECONDS", "0");
  // Most tests change a dependency and look at the very next heartbeat; the result cache is tested
  // where it is the subject.
  env.try_emplace("DOCKERFLOW_HEARTBEAT_CACHE_MS", "0");
  if (options.write_version_file) {
    dir_.write_file("version.json", version_json);
  }

  std::vector<std::string> argv = options.wrapper;
  argv.push_back(binary_path().string());
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  process_ = std::make_unique<child_process>(
      child_options{argv, env, dir_.path(), dir_.path(), "app", options.blocked_signals});

  if (!options.wait_until_ready) {
    return;
  }
  auto deadline = test_clock::now() + options.ready_timeout;
  for (;;) {
    if (!process_->running()) {
      throw std::runtime_error("dockerflow-app exited during start-up (" + process_->status()->describe() +
                               ")\nstderr: " + stderr_text() + "\nstdout: " + stdout_text());
    }
    try {
      tcp_connection probe(port_, 200ms);
      return;
    } catch (const std::runtime_error&) {
    }
    if (test_clock::now() >= deadline) {
      throw std::runtime_error("dockerflow-app did not accept connections on port " + std::to_string(port_) +
                               " within the start-up timeout\nstderr: " + stderr_text());
    }
    std::this_thread::sleep_for(10ms);
  }
}

std::vector<std::string> app_process::stdout_lines() const {
  std::vector<std::string> lines;
  std::string text = stdout_text();
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  return lines;
}

std::optional<exit_status> app_process::stop(std::chrono::milliseconds timeout) {
  if (!process_->status()) {
    process_->send_signal(SIGTERM);
  }
  return process_->wait_for(timeout);
}

} // namespace dockerflow::test
