#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace dockerflow {

// How many CPUs this process may keep busy: the CPUs in its affinity mask, narrowed by its cgroup's
// CPU quota (a container started with --cpus 1 on a 64-core host gets 1). Never fewer than 1.
unsigned usable_cpus();

// The cgroup quota in whole CPUs, rounded down (a thread per fractional CPU would only be throttled),
// at least 1; nullopt when no quota applies. `proc_self_cgroup` is the text of /proc/self/cgroup and
// `cgroup_root` where the cgroup file systems are mounted (/sys/fs/cgroup).
std::optional<unsigned> cgroup_cpu_quota(const std::filesystem::path& cgroup_root, std::string_view proc_self_cgroup);

// cgroup v2 `cpu.max` ("max 100000", "150000 100000"), and cgroup v1 `cpu.cfs_quota_us` with
// `cpu.cfs_period_us` ("-1" means no quota).
std::optional<unsigned> cpus_from_cpu_max(std::string_view cpu_max);
std::optional<unsigned> cpus_from_cfs(std::string_view quota_us, std::string_view period_us);

}  // namespace dockerflow
