#include <dockerflow/ops/cpu_limit.hpp>

#include <gtest/gtest.h>

#include <sched.h>

#include <fstream>
#include <random>

namespace dockerflow {
namespace {

namespace fs = std::filesystem;

TEST(CpuLimit, CgroupV2CpuMax) {
  EXPECT_EQ(cpus_from_cpu_max("max 100000\n"), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max("100000 100000\n"), 1u);
  EXPECT_EQ(cpus_from_cpu_max("150000 100000"), 1u) << "rounded down: a thread per fraction is throttled";
  EXPECT_EQ(cpus_from_cpu_max("200000 100000"), 2u);
  EXPECT_EQ(cpus_from_cpu_max("50000 100000"), 1u) << "never fewer than one";
  EXPECT_EQ(cpus_from_cpu_max("6400000 100000"), 64u);
  EXPECT_EQ(cpus_from_cpu_max(""), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max("garbage"), std::nullopt);
  EXPECT_EQ(cpus_from_cpu_max("100000 0"), std::nullopt);
}

TEST(CpuLimit, CgroupV1CfsQuota) {
  EXPECT_EQ(cpus_from_cfs("-1\n", "100000\n"), std::nullopt);
  EXPECT_EQ(cpus_from_cfs("100000\n", "100000\n"), 1u);
  EXPECT_EQ(cpus_from_cfs("300000", "100000"), 3u);
  EXPECT_EQ(cpus_from_cfs("abc", "100000"), std::nullopt);
}

// A fake /sys/fs/cgroup in a temporary directory.
class CgroupTree : public ::testing::Test {
 protected:
  CgroupTree() : root_(fs::temp_directory_path() / ("cgroup-" + std::to_string(std::random_device{}()))) {}
  ~CgroupTree() override { fs::remove_all(root_); }

  void write(const fs::path& relative, const std::string& text) {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text;
  }

  fs::path root_;
};

TEST_F(CgroupTree, V2QuotaOfTheOwnCgroup) {
  write("system.slice/app.service/cpu.max", "100000 100000\n");
  write("cpu.max", "max 100000\n");
  EXPECT_EQ(cgroup_cpu_quota(root_, "0::/system.slice/app.service\n"), 1u);
}

TEST_F(CgroupTree, V2InsideAContainerTheMountRootIsTheOwnCgroup) {
  write("cpu.max", "200000 100000\n");
  EXPECT_EQ(cgroup_cpu_quota(root_, "0::/docker/0123abcd\n"), 2u);
}

TEST_F(CgroupTree, V1DockerCpusOne) {
  // docker run --cpus 1 on a cgroup v1 host: the container sees its own cgroup at the mount root.
  write("cpu,cpuacct/cpu.cfs_quota_us", "100000\n");
  write("cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cgroup_cpu_quota(root_, "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"),
            1u);
}

TEST_F(CgroupTree, V1WithoutQuota) {
  write("cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
  write("cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  EXPECT_EQ(cgroup_cpu_quota(root_, "4:cpu,cpuacct:/\n"), std::nullopt);
}

TEST_F(CgroupTree, NothingMountedMeansNoQuota) {
  EXPECT_EQ(cgroup_cpu_quota(root_, "0::/\n"), std::nullopt);
  EXPECT_EQ(cgroup_cpu_quota(root_, ""), std::nullopt);
}

TEST(CpuLimit, UsableCpusFollowsTheAffinityMask) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &saved)) {
      CPU_SET(cpu, &one);
      break;
    }
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  const auto pinned = usable_cpus();
  sched_setaffinity(0, sizeof(saved), &saved);
  EXPECT_EQ(pinned, 1u);
  EXPECT_GE(usable_cpus(), 1u);
  EXPECT_LE(usable_cpus(), static_cast<unsigned>(CPU_COUNT(&saved)));
}

}  // namespace
}  // namespace dockerflow
