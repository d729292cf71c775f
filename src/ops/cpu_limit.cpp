#include <dockerflow/ops/cpu_limit.hpp>

#include <sched.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace dockerflow {
namespace {

std::optional<long long> to_number(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  long long value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<unsigned> whole_cpus(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  const auto cpus = quota / period;
  return static_cast<unsigned>(cpus < 1 ? 1 : cpus);
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Inside a container the cgroup path of /proc/self/cgroup names the host's hierarchy while the
// mount shows the container's own cgroup at its root, so both places are tried.
std::vector<std::filesystem::path> candidates(const std::filesystem::path& mount, std::string_view path) {
  std::vector<std::filesystem::path> dirs;
  const auto relative = std::filesystem::path(std::string(path)).relative_path();
  if (!relative.empty()) dirs.push_back(mount / relative);
  dirs.push_back(mount);
  return dirs;
}

bool names_cpu_controller(std::string_view controllers) {
  while (!controllers.empty()) {
    const auto comma = controllers.find(',');
    if (controllers.substr(0, comma) == "cpu") return true;
    if (comma == std::string_view::npos) break;
    controllers.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::optional<unsigned> cpus_from_cpu_max(std::string_view cpu_max) {
  const auto space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto quota = to_number(cpu_max.substr(0, space));  // "max" is not a number: no quota
  const auto period = to_number(cpu_max.substr(space + 1));
  if (!quota || !period) return std::nullopt;
  return whole_cpus(*quota, *period);
}

std::optional<unsigned> cpus_from_cfs(std::string_view quota_us, std::string_view period_us) {
  const auto quota = to_number(quota_us);
  const auto period = to_number(period_us);
  if (!quota || !period) return std::nullopt;
  return whole_cpus(*quota, *period);
}

std::optional<unsigned> cgroup_cpu_quota(const std::filesystem::path& cgroup_root, std::string_view proc_self_cgroup) {
  std::istringstream lines{std::string(proc_self_cgroup)};
  for (std::string line; std::getline(lines, line);) {
    // "hierarchy-id:controllers:path"; cgroup v2 is "0::path"
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string_view controllers = std::string_view(line).substr(first + 1, second - first - 1);
    const std::string_view path = std::string_view(line).substr(second + 1);
    if (controllers.empty()) {
      for (const auto& dir : candidates(cgroup_root, path))
        if (const auto text = read_file(dir / "cpu.max")) return cpus_from_cpu_max(*text);
    } else if (names_cpu_controller(controllers)) {
      for (const auto* mount : {"cpu,cpuacct", "cpu", "cpuacct,cpu"})
        for (const auto& dir : candidates(cgroup_root / mount, path)) {
          const auto quota = read_file(dir / "cpu.cfs_quota_us");
          const auto period = read_file(dir / "cpu.cfs_period_us");
          if (quota && period) return cpus_from_cfs(*quota, *period);
        }
    }
  }
  return std::nullopt;
}

unsigned usable_cpus() {
  unsigned cpus = 1;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cpus = static_cast<unsigned>(CPU_COUNT(&set));
  if (const auto text = read_file("/proc/self/cgroup"))
    if (const auto quota = cgroup_cpu_quota("/sys/fs/cgroup", *text); quota && *quota < cpus) cpus = *quota;
  return cpus < 1 ? 1 : cpus;
}

}  // namespace dockerflow
