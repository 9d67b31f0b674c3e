// The number of CPU threads of sws's kernels (core/thread_pool.h; OpenBLAS runs single-threaded
// inside them), and how the default is chosen.
#pragma once

#include <string>

namespace sws {

// Sets the thread count of sws's CPU kernels (the calling thread included); throws sws::Error
// unless n >= 1. Without a call the pool starts with choose_thread_count(0).
void set_num_threads(int n);
// The current thread count.
int num_threads();

// Where a thread count came from, for messages and metrics.
enum class ThreadSource { Requested, Environment, Detected };

// A thread count and its source.
struct ThreadChoice {
  int count = 1;                                 // threads to use, >= 1
  ThreadSource source = ThreadSource::Detected;  // which setting gave it
};

// The thread count to use, by precedence: `requested` when >= 1 (a --threads flag or a
// library caller's own choice), else OMP_NUM_THREADS when it holds a positive number (its
// first entry, as OpenMP reads a list), else available_cpus() (core/cpu_quota.h). Throws
// sws::Error for a negative `requested` or an OMP_NUM_THREADS that is not a positive number.
ThreadChoice choose_thread_count(int requested);

// "--threads", "OMP_NUM_THREADS" or "the CPUs available" (affinity mask and cgroup quota).
std::string describe(ThreadSource source);

// The threads of this process as the kernel lists them (/proc/self/task): `workers` counts those
// named like sws's pool workers (core/thread_pool.h), `others` every thread but the calling one
// and those. With sws alone in a process, workers == num_threads() - 1 once the pool has run and
// others == 0: neither OpenBLAS nor OpenMP has started threads of its own.
struct ProcessThreads {
  int workers = 0;  // threads named sws-worker
  int others = 0;   // any other thread but the caller
};
// Counts them now.
ProcessThreads process_threads();

}  // namespace sws
