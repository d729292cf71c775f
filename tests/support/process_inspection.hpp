#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dockerflow::test {

// Facts about live processes read from /proc, so tests can assert on resources (threads, sockets)
// that the HTTP interface does not show, and reach every process of a multi-process server.

// `root` followed by all of its descendants, parents before children.
std::vector<pid_t> process_tree(pid_t root);

// Number of threads of a process (entries of /proc/<pid>/task); 0 if it does not exist.
std::size_t thread_count(pid_t pid);

// Signal masks of one thread, from /proc/<pid>/task/<tid>/status: bit (signal - 1) is set for each
// signal the thread blocks, and for each the process has a handler for.
struct thread_signal_masks {
  pid_t tid = 0;
  std::uint64_t blocked = 0;
  std::uint64_t caught = 0;
  bool blocks(int signal) const noexcept { return (blocked >> (signal - 1)) & 1U; }
  bool catches(int signal) const noexcept { return (caught >> (signal - 1)) & 1U; }
};

// One entry per live thread of `pid` (a thread that ends while they are read is left out).
std::vector<thread_signal_masks> signal_masks_of_threads(pid_t pid);

// Number of TCP sockets held open by `pid` whose remote end is 127.0.0.1:`remote_port`, in any
// state. Shows whether a client stacks connections to a server that stopped answering.
std::size_t tcp_connections_to(pid_t pid, std::uint16_t remote_port);

// True if /proc/<pid> exists and the process is not a zombie.
bool process_alive(pid_t pid);

// The state letter of /proc/<pid>/stat ('R', 'S', 'T' stopped, 'Z' zombie, ...); '?' if gone.
char process_state(pid_t pid);

// kill() returns before the target has acted on SIGSTOP/SIGCONT; these wait (bounded) until every
// listed process that still exists has (stopped: state 'T', zombies count as stopped) or has not
// (running: any other state) been stopped. False at the deadline.
bool wait_until_stopped(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout);
bool wait_until_running(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout);

} // namespace dockerflow::test
