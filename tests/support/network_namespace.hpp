#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dockerflow::test {

// A network namespace of its own whose only interface is loopback, for faults that must not reach
// the real network (a DNS lookup of a name that does not exist, say): with no other interface and
// no route, no packet sent inside it can leave the machine. Made with `ip netns add`, so that
// `ip netns exec <name>` starts programs inside it with each file of /etc/netns/<name>/ mounted
// over the one in /etc (resolv.conf, hosts). Needs root. The destructor deletes the namespace and
// its /etc/netns directory.
class network_namespace {
public:
  // `etc_files`: file name in /etc → contents, e.g. {"resolv.conf", "nameserver 127.0.0.53\n"}.
  explicit network_namespace(const std::map<std::string, std::string>& etc_files = {});
  ~network_namespace();

  network_namespace(const network_namespace&) = delete;
  network_namespace& operator=(const network_namespace&) = delete;

  const std::string& name() const noexcept { return name_; }
  // The argv prefix that runs a program inside (see app_options::wrapper).
  std::vector<std::string> exec_prefix() const { return {"ip", "netns", "exec", name_}; }
  // Rewrites one of the etc_files in place (same inode), so programs already running inside, which
  // see it through a bind mount, read the new contents (glibc rereads /etc/hosts on every lookup).
  void write_etc_file(const std::string& file, std::string_view contents) const;

  // True when this process may create network namespaces (root, with `ip` installed).
  static bool supported();

private:
  std::string name_;
  std::filesystem::path etc_dir_;
};

// Moves the calling thread into `ns` for its lifetime and back afterwards. Sockets the thread opens
// meanwhile, threads it starts and child processes it forks are inside too (each task has its own
// namespaces and new ones inherit them); other threads are not affected.
class network_namespace_entry {
public:
  explicit network_namespace_entry(const network_namespace& ns);
  ~network_namespace_entry();

  network_namespace_entry(const network_namespace_entry&) = delete;
  network_namespace_entry& operator=(const network_namespace_entry&) = delete;

private:
  int original_ = -1;
};

// Names of the network interfaces the calling thread can see.
std::vector<std::string> network_interfaces();

} // namespace dockerflow::test
