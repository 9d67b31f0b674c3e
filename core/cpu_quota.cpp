#include "core/cpu_quota.h"

#include <sched.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

namespace sws {

namespace {

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
  return parts;
}

// mountinfo writes a space in a path as \040 (and tab, newline, backslash likewise, in octal).
std::string unescape_octal(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// One cgroup file system as mounted: where, which part of the hierarchy, and its options.
struct CgroupMount {
  std::string root, mount_point;
  bool v2 = false;
  std::vector<std::string> options;  // v1: the controllers it carries ("cpu", "cpuacct", ...)
};

std::vector<CgroupMount> cgroup_mounts(const std::string& root) {
  std::vector<CgroupMount> mounts;
  std::ifstream in(root + "/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    // "36 35 98:0 /root /mount/point rw,relatime shared:1 - cgroup cgroup rw,cpu,cpuacct"
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    const std::vector<std::string> head = split(line.substr(0, dash), ' '), tail = split(line.substr(dash + 3), ' ');
    if (head.size() < 5 || tail.size() < 3) continue;
    if (tail[0] != "cgroup" && tail[0] != "cgroup2") continue;
    mounts.push_back({unescape_octal(head[3]), unescape_octal(head[4]), tail[0] == "cgroup2", split(tail[2], ',')});
  }
  return mounts;
}

// The folder of this process's cgroup under `mount`, given its path in the hierarchy.
std::string cgroup_folder(const CgroupMount& mount, const std::string& path) {
  std::string relative = path;
  if (mount.root != "/" && path.compare(0, mount.root.size(), mount.root) == 0) relative = path.substr(mount.root.size());
  else if (mount.root != "/") relative = "";  // a namespace whose root we cannot place: the mount itself
  return mount.mount_point + relative;
}

// The whitespace-separated words of a file's first line; empty when it cannot be read.
std::vector<std::string> read_words(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> words;
  std::stringstream stream(line);
  for (std::string word; stream >> word;) words.push_back(word);
  return words;
}

double parse_positive(const std::string& word) {
  try {
    size_t used = 0;
    const double value = std::stod(word, &used);
    return used == word.size() && value > 0 && std::isfinite(value) ? value : 0.0;
  } catch (...) {
    return 0.0;
  }
}

// The quota in CPUs set in `folder` (0 = none): v2 "cpu.max" holds "QUOTA PERIOD" or "max PERIOD";
// v1 has cpu.cfs_quota_us (-1 = none) and cpu.cfs_period_us.
double quota_in(const std::string& folder, bool v2) {
  std::vector<std::string> quota, period;
  if (v2) {
    quota = read_words(folder + "/cpu.max");  // "max 100000" or "150000 100000"
    if (quota.size() != 2) return 0.0;
    period = {quota[1]};
  } else {
    quota = read_words(folder + "/cpu.cfs_quota_us");  // "-1" when there is none
    period = read_words(folder + "/cpu.cfs_period_us");
  }
  if (quota.empty() || period.empty()) return 0.0;
  const double q = parse_positive(quota[0]), p = parse_positive(period[0]);  // "max" and "-1" give 0
  return q > 0 && p > 0 ? q / p : 0.0;
}

// The smallest quota from `folder` up to the mount point (a parent's limit binds its children).
double smallest_quota_upwards(const std::string& root, const std::string& mount_point, std::string folder, bool v2) {
  double smallest = 0.0;
  while (true) {
    const double quota = quota_in(root + folder, v2);
    if (quota > 0 && (smallest == 0.0 || quota < smallest)) smallest = quota;
    if (folder.size() <= mount_point.size()) break;
    folder = folder.substr(0, folder.find_last_of('/'));
    if (folder.size() < mount_point.size()) folder = mount_point;
  }
  return smallest;
}

}  // namespace

double cgroup_cpu_quota(const std::string& root) {
  const std::vector<CgroupMount> mounts = cgroup_mounts(root);
  double smallest = 0.0;
  std::ifstream in(root + "/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    // "0::/path" (v2) or "4:cpu,cpuacct:/path" (v1)
    const size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1), path = line.substr(second + 1);
    const std::vector<std::string> names = split(controllers, ',');
    const bool v2 = line.compare(0, first, "0") == 0 && controllers.empty();
    const bool v1_cpu = std::find(names.begin(), names.end(), "cpu") != names.end();
    if (!v2 && !v1_cpu) continue;
    for (const CgroupMount& mount : mounts) {
      if (mount.v2 != v2) continue;
      if (!v2 && std::find(mount.options.begin(), mount.options.end(), "cpu") == mount.options.end()) continue;
      const double quota = smallest_quota_upwards(root, mount.mount_point, cgroup_folder(mount, path), v2);
      if (quota > 0 && (smallest == 0.0 || quota < smallest)) smallest = quota;
    }
  }
  return smallest;
}

int affinity_cpu_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return std::max(1, CPU_COUNT(&set));
}

int available_cpus() {
  const int affinity = affinity_cpu_count();
  const double quota = cgroup_cpu_quota();
  if (quota <= 0) return affinity;
  return std::max(1, std::min(affinity, static_cast<int>(std::ceil(quota - 1e-9))));
}

}  // namespace sws
