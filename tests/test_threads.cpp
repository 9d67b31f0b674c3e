// The default thread count: cgroup CPU quotas read from fake /proc and /sys trees (v1, v2,
// nested, hybrid, unreadable), the affinity mask, and the precedence --threads > OMP_NUM_THREADS
// > the CPUs available.
#include <doctest/doctest.h>
#include <sched.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "core/cpu_quota.h"
#include "core/error.h"
#include "core/threads.h"
#include "tests/temp_dir.h"

using namespace sws;

namespace {

// A fake file system root: write("proc/self/cgroup", "...") and so on.
struct FakeRoot {
  testing::TempDir dir{"cgroup"};
  void write(const std::string& relative, const std::string& text) const {
    const std::filesystem::path path = dir.path / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  std::string root() const { return dir.path.string(); }
  // A v1 cgroup folder's quota and period.
  void write_v1_quota(const std::string& folder, const char* quota_us, const char* period_us) const {
    write(folder + "/cpu.cfs_quota_us", quota_us);
    write(folder + "/cpu.cfs_period_us", period_us);
  }
};

// Sets (or unsets) an environment variable for one scope.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> saved;
  ScopedEnv(std::string n, const char* value) : name(std::move(n)) {
    if (const char* old = std::getenv(name.c_str())) saved = old;
    if (value) setenv(name.c_str(), value, 1);
    else unsetenv(name.c_str());
  }
  ~ScopedEnv() {
    if (saved) setenv(name.c_str(), saved->c_str(), 1);
    else unsetenv(name.c_str());
  }
};

const char* kV2Mount = "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
const char* kV1Mount = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n";

}  // namespace

TEST_CASE("cgroup v2: cpu.max gives quota / period, 'max' gives none") {
  FakeRoot fs;
  fs.write("proc/self/mountinfo", kV2Mount);
  fs.write("proc/self/cgroup", "0::/user.slice/job\n");
  fs.write("sys/fs/cgroup/user.slice/job/cpu.max", "150000 100000\n");
  CHECK(cgroup_cpu_quota(fs.root()) == doctest::Approx(1.5));
  fs.write("sys/fs/cgroup/user.slice/job/cpu.max", "max 100000\n");
  CHECK(cgroup_cpu_quota(fs.root()) == 0.0);
}

TEST_CASE("cgroup v2: a parent's smaller quota binds the child") {
  FakeRoot fs;
  fs.write("proc/self/mountinfo", kV2Mount);
  fs.write("proc/self/cgroup", "0::/a/b\n");
  fs.write("sys/fs/cgroup/a/b/cpu.max", "400000 100000\n");
  fs.write("sys/fs/cgroup/a/cpu.max", "50000 50000\n");
  fs.write("sys/fs/cgroup/cpu.max", "max 100000\n");
  CHECK(cgroup_cpu_quota(fs.root()) == doctest::Approx(1.0));
}

TEST_CASE("cgroup v1: cfs_quota_us / cfs_period_us under the cpu controller's mount") {
  FakeRoot fs;
  fs.write("proc/self/mountinfo", kV1Mount);
  fs.write("proc/self/cgroup", "5:memory:/docker/x\n4:cpu,cpuacct:/docker/x\n");
  fs.write_v1_quota("sys/fs/cgroup/cpu,cpuacct/docker/x", "250000\n", "100000\n");
  CHECK(cgroup_cpu_quota(fs.root()) == doctest::Approx(2.5));
  fs.write("sys/fs/cgroup/cpu,cpuacct/docker/x/cpu.cfs_quota_us", "-1\n");  // no limit
  CHECK(cgroup_cpu_quota(fs.root()) == 0.0);
}

TEST_CASE("cgroup v1 inside a container: the mount's root is the container's own cgroup") {
  // mountinfo's fourth field is the mounted part of the hierarchy; /proc/self/cgroup gives the
  // full path, so the folder is the mount point plus what follows the root.
  FakeRoot fs;
  fs.write("proc/self/mountinfo", "40 31 0:29 /docker/x /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n");
  fs.write("proc/self/cgroup", "4:cpu:/docker/x/inner\n");
  fs.write_v1_quota("sys/fs/cgroup/cpu/inner", "300000\n", "100000\n");
  fs.write_v1_quota("sys/fs/cgroup/cpu", "200000\n", "100000\n");
  CHECK(cgroup_cpu_quota(fs.root()) == doctest::Approx(2.0));
}

TEST_CASE("cgroup quota: hybrid hierarchies take the smaller; missing or garbled files mean none") {
  FakeRoot fs;
  fs.write("proc/self/mountinfo", std::string(kV1Mount) + "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
  fs.write("proc/self/cgroup", "4:cpu,cpuacct:/j\n0::/j\n");
  fs.write_v1_quota("sys/fs/cgroup/cpu,cpuacct/j", "300000\n", "100000\n");
  fs.write("sys/fs/cgroup/unified/j/cpu.max", "120000 100000\n");
  CHECK(cgroup_cpu_quota(fs.root()) == doctest::Approx(1.2));
  fs.write("sys/fs/cgroup/unified/j/cpu.max", "lots 100000\n");
  CHECK(cgroup_cpu_quota(fs.root()) == doctest::Approx(3.0));
  fs.write("sys/fs/cgroup/cpu,cpuacct/j/cpu.cfs_period_us", "0\n");
  CHECK(cgroup_cpu_quota(fs.root()) == 0.0);
  FakeRoot empty;
  CHECK(cgroup_cpu_quota(empty.root()) == 0.0);  // no /proc at all
}

TEST_CASE("the affinity mask bounds the CPUs available") {
  cpu_set_t saved;
  REQUIRE(sched_getaffinity(0, sizeof saved, &saved) == 0);
  const int all = affinity_cpu_count();
  CHECK(all == CPU_COUNT(&saved));
  CHECK(available_cpus() >= 1);
  CHECK(available_cpus() <= all);
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  REQUIRE(sched_setaffinity(0, sizeof one, &one) == 0);
  CHECK(affinity_cpu_count() == 1);
  CHECK(available_cpus() == 1);
  REQUIRE(sched_setaffinity(0, sizeof saved, &saved) == 0);
}

TEST_CASE("thread count precedence: requested over OMP_NUM_THREADS over the CPUs available") {
  {
    ScopedEnv env("OMP_NUM_THREADS", "5");
    CHECK(choose_thread_count(3).count == 3);
    CHECK(choose_thread_count(3).source == ThreadSource::Requested);
    CHECK(choose_thread_count(0).count == 5);
    CHECK(choose_thread_count(0).source == ThreadSource::Environment);
  }
  {
    ScopedEnv env("OMP_NUM_THREADS", "4,2");  // one count per nesting level: the first is ours
    CHECK(choose_thread_count(0).count == 4);
  }
  {
    ScopedEnv env("OMP_NUM_THREADS", nullptr);
    CHECK(choose_thread_count(0).count == available_cpus());
    CHECK(choose_thread_count(0).source == ThreadSource::Detected);
    CHECK(describe(ThreadSource::Detected) == "the CPUs available");
  }
  for (const char* bad : {"0", "-2", "two", "3x"}) {
    ScopedEnv env("OMP_NUM_THREADS", bad);
    CHECK_THROWS_WITH_AS(choose_thread_count(0), doctest::Contains("is not a positive thread count"), Error);
    CHECK(choose_thread_count(2).count == 2);  // a flag needs no environment
  }
  CHECK_THROWS_AS(choose_thread_count(-1), Error);
}
