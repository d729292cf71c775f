#include "support/network_namespace.hpp"

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace dockerflow::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

void ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  temp_dir output("dockerflow-ip");
  const auto result = run_command(child_options{argv, minimal_env(), {}, output.path(), "ip", {}}, 15s);
  if (!result.status.success()) {
    std::string command;
    for (const auto& a : argv) command += a + " ";
    throw std::runtime_error(command + "failed (" + result.status.describe() + "): " + result.stderr_text);
  }
}

std::string unique_name() {
  static std::atomic<unsigned> counter{0};
  return "dockerflow-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

} // namespace

bool network_namespace::supported() {
  return ::geteuid() == 0 && (::access("/usr/sbin/ip", X_OK) == 0 || ::access("/sbin/ip", X_OK) == 0);
}

network_namespace::network_namespace(const std::map<std::string, std::string>& etc_files)
    : name_(unique_name()), etc_dir_(fs::path("/etc/netns") / name_) {
  ip({"netns", "add", name_});
  try {
    ip({"-n", name_, "link", "set", "lo", "up"});
    fs::create_directories(etc_dir_);
    for (const auto& [file, contents] : etc_files) {
      write_etc_file(file, contents);
    }
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(etc_dir_, ignored);
    try {
      ip({"netns", "delete", name_});
    } catch (const std::exception&) {
    }
    throw;
  }
}

network_namespace::~network_namespace() {
  std::error_code ignored;
  fs::remove_all(etc_dir_, ignored);
  try {
    // The namespace itself lives on until its last process has gone; the name is freed now.
    ip({"netns", "delete", name_});
  } catch (const std::exception&) {
  }
}

void network_namespace::write_etc_file(const std::string& file, std::string_view contents) const {
  std::ofstream out(etc_dir_ / file, std::ios::trunc);
  out << contents;
  if (!out.flush()) {
    throw std::runtime_error("cannot write " + (etc_dir_ / file).string());
  }
}

network_namespace_entry::network_namespace_entry(const network_namespace& ns) {
  original_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original_ < 0) {
    throw std::system_error(errno, std::generic_category(), "open /proc/thread-self/ns/net");
  }
  const auto path = "/run/netns/" + ns.name();
  const int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0 || ::setns(target, CLONE_NEWNET) != 0) {
    const int error = errno;
    if (target >= 0) ::close(target);
    ::close(original_);
    throw std::system_error(error, std::generic_category(), "setns " + path);
  }
  ::close(target);
}

network_namespace_entry::~network_namespace_entry() {
  // Back where the thread came from; failing here would leave later tests in the wrong network.
  if (::setns(original_, CLONE_NEWNET) != 0) {
    std::terminate();
  }
  ::close(original_);
}

std::vector<std::string> network_interfaces() {
  std::vector<std::string> names;
  if (auto* list = ::if_nameindex()) {
    for (auto* i = list; i->if_index != 0; ++i) {
      names.emplace_back(i->if_name);
    }
    ::if_freenameindex(list);
  }
  return names;
}

} // namespace dockerflow::test
