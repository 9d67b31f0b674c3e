#include "core/threads.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/cpu_quota.h"
#include "core/error.h"
#include "core/thread_pool.h"

namespace sws {

void set_num_threads(int n) {
  SWS_CHECK(n >= 1, "thread count must be at least 1, got " + std::to_string(n));
  resize_pool(n);
}

int num_threads() { return pool_threads(); }

ThreadChoice choose_thread_count(int requested) {
  SWS_CHECK(requested >= 0, "thread count must be at least 1 (or 0 for the default), got " + std::to_string(requested));
  if (requested >= 1) return {requested, ThreadSource::Requested};
  const char* env = std::getenv("OMP_NUM_THREADS");
  if (env != nullptr && *env != '\0') {
    // OpenMP reads a comma-separated list (one count per nesting level); the first is ours.
    const std::string text(env), first = text.substr(0, text.find(','));
    char* end = nullptr;
    const long value = std::strtol(first.c_str(), &end, 10);
    SWS_CHECK(end != first.c_str() && *end == '\0' && value >= 1 && value <= 4096,
              "OMP_NUM_THREADS='" + text + "' is not a positive thread count; unset it or pass --threads N");
    return {static_cast<int>(value), ThreadSource::Environment};
  }
  return {available_cpus(), ThreadSource::Detected};
}

ProcessThreads process_threads() {
  ProcessThreads count;
  const std::string self = std::to_string(syscall(SYS_gettid));
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    if (entry.path().filename() == self) continue;
    std::ifstream comm(entry.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name == kWorkerName) ++count.workers;
    else if (comm) ++count.others;  // a thread that ended while we looked is not counted
  }
  return count;
}

std::string describe(ThreadSource source) {
  switch (source) {
    case ThreadSource::Requested: return "--threads";
    case ThreadSource::Environment: return "OMP_NUM_THREADS";
    case ThreadSource::Detected: break;
  }
  return "the CPUs available";
}

}  // namespace sws
