#include "support/process_inspection.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>

namespace dockerflow::test {
namespace {

namespace fs = std::filesystem;

// Parses /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces and parentheses,
// so fields are counted from the last ')'.
bool read_stat(pid_t pid, char& state, pid_t& parent) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) {
    return false;
  }
  auto close = line.rfind(')');
  if (close == std::string::npos) {
    return false;
  }
  std::istringstream rest(line.substr(close + 1));
  return static_cast<bool>(rest >> state >> parent);
}

std::set<unsigned long> socket_inodes(pid_t pid) {
  std::set<unsigned long> inodes;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code link_ec;
    auto target = fs::read_symlink(entry.path(), link_ec).string();
    if (!link_ec && target.rfind("socket:[", 0) == 0) {
      inodes.insert(std::stoul(target.substr(8)));
    }
  }
  return inodes;
}

} // namespace

std::vector<pid_t> process_tree(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    pid_t pid = std::stoi(name);
    char state = 0;
    pid_t parent = 0;
    if (read_stat(pid, state, parent)) {
      children.emplace(parent, pid);
    }
  }
  std::vector<pid_t> tree{root};
  for (std::size_t i = 0; i < tree.size(); ++i) {
    auto [first, last] = children.equal_range(tree[i]);
    for (auto it = first; it != last; ++it) {
      tree.push_back(it->second);
    }
  }
  return tree;
}

std::size_t thread_count(pid_t pid) {
  std::size_t count = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    ++count;
  }
  return count;
}

std::vector<thread_signal_masks> signal_masks_of_threads(pid_t pid) {
  std::vector<thread_signal_masks> threads;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec);
       !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::ifstream status(it->path() / "status");
    thread_signal_masks masks;
    masks.tid = static_cast<pid_t>(std::stol(it->path().filename().string()));
    bool complete = false;  // SigCgt comes after SigBlk
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("SigBlk:", 0) == 0) masks.blocked = std::stoull(line.substr(7), nullptr, 16);
      if (line.rfind("SigCgt:", 0) == 0) {
        masks.caught = std::stoull(line.substr(7), nullptr, 16);
        complete = true;
      }
    }
    if (complete) threads.push_back(masks);
  }
  return threads;
}

std::size_t tcp_connections_to(pid_t pid, std::uint16_t remote_port) {
  auto inodes = socket_inodes(pid);
  std::size_t count = 0;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line); // column titles
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
      unsigned long inode = 0;
      if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >>
            inode)) {
        continue;
      }
      auto colon = remote.rfind(':');
      if (colon == std::string::npos) {
        continue;
      }
      auto port = static_cast<std::uint16_t>(std::stoul(remote.substr(colon + 1), nullptr, 16));
      if (port == remote_port && inodes.count(inode) != 0) {
        ++count;
      }
    }
  }
  return count;
}

char process_state(pid_t pid) {
  char state = 0;
  pid_t parent = 0;
  return read_stat(pid, state, parent) ? state : '?';
}

namespace {

template <typename Predicate>
bool wait_until_all(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout, Predicate accepted) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool all = std::all_of(pids.begin(), pids.end(), [&](pid_t p) { return accepted(process_state(p)); });
    if (all) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

} // namespace

bool wait_until_stopped(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout) {
  return wait_until_all(pids, timeout, [](char s) { return s == 'T' || s == 'Z' || s == 'X' || s == '?'; });
}

bool wait_until_running(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout) {
  return wait_until_all(pids, timeout, [](char s) { return s != 'T'; });
}

bool process_alive(pid_t pid) {
  char state = 0;
  pid_t parent = 0;
  return read_stat(pid, state, parent) && state != 'Z' && state != 'X';
}

} // namespace dockerflow::test
