// How many CPUs this process may really use: the CPUs of its affinity mask (taskset, cpuset,
// mpirun's binding), capped by the CPU quota of its control group (docker --cpus, Kubernetes
// limits, systemd CPUQuota=), which the kernel enforces by throttling and which nproc ignores.
#pragma once

#include <string>

namespace sws {

// The CPU quota of this process's control group, in CPUs (quota / period), the smallest along
// the path from its cgroup up to the hierarchy's root; 0 when there is none or it cannot be
// read. Reads cgroup v2's cpu.max and v1's cpu.cfs_quota_us / cpu.cfs_period_us, finding the
// hierarchy through /proc/self/cgroup and /proc/self/mountinfo. `root` prefixes every path
// read (tests point it at a fake tree).
double cgroup_cpu_quota(const std::string& root = "");

// The number of CPUs in this process's affinity mask (sched_getaffinity), at least 1.
int affinity_cpu_count();

// min(affinity_cpu_count(), ceil(cgroup_cpu_quota())): the default thread count. A quota of
// 1.5 CPUs gives 2 threads, as the JVM and .NET round it.
int available_cpus();

}  // namespace sws
