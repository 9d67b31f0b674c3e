// The CPU backend's threads: a small pool in which the calling thread and the workers *claim*
// the tasks of a parallel loop one at a time, and the caller waits only for tasks that have been
// claimed. This is what keeps sws fast when other programs share the cores (README, "Sharing
// the cores"): with OpenMP's fork-join, every parallel loop ended at a barrier
// that waited for *every* thread of the team to arrive, so a worker that another program had
// pushed off its core stalled the whole step until it ran again, while the threads that had
// arrived spun on the core the others needed (a LeNet step 2-14x slower beside one busy
// process). Here a worker that is not running claims nothing and delays nothing; the caller
// does the work itself.
//
// Waiting: an idle worker spins (with `pause`, yielding its core to any other runnable thread)
// for kWorkerSpin, then sleeps on a futex; a caller whose claimed tasks are still running
// elsewhere spins for kCallerSpin, then sleeps, which frees its core for the late thread.
//
// Results do not depend on which thread runs a task: every task writes its own outputs, and
// loops that accumulate per thread (the convolution's weight gradient) use parallel_slots(),
// whose slot s always covers the same range, summed in slot order.
#pragma once

#include <cstdint>
#include <utility>

namespace sws {

// The name of the pool's worker threads, as /proc/PID/task/TID/comm and `top -H` show it.
inline constexpr const char* kWorkerName = "sws-worker";

// How a parallel loop's task is called: fn(context, task).
using TaskFunction = void (*)(void* context, int64_t task);

// Runs fn(context, task) for every task in [0, tasks), each exactly once, on the calling thread
// and the pool's workers; returns when all have finished. Runs them inline, in order, when the
// pool has one thread, when called from inside a task, or while another thread's loop holds the
// pool. The first exception a task throws is rethrown here after every task has finished.
void run_tasks(int64_t tasks, TaskFunction fn, void* context);

// The pool thread running the current task: 0 for the calling thread, 1 .. threads-1 for the
// workers. For per-thread scratch space sized by pool_threads().
int pool_thread_index();

// The pool's thread count (the caller included), as set by set_num_threads (core/threads.h).
int pool_threads();

// Resizes the pool (the calling thread counts as one); called by set_num_threads. Not from
// inside a task.
void resize_pool(int threads);

// Calls body(task) for every task in [0, tasks) through run_tasks.
template <typename Body>
void parallel_tasks(int64_t tasks, Body&& body) {
  run_tasks(tasks, [](void* context, int64_t task) { (*static_cast<Body*>(context))(task); }, &body);
}

// Calls body(begin, end) over [0, n) split into contiguous pieces (up to 4 per thread, so that a
// thread pushed off its core holds back little), or once over [0, n) when `worth_splitting` is
// false or the pool has one thread.
template <typename Body>
void parallel_for(int64_t n, bool worth_splitting, Body&& body) {
  const int64_t threads = pool_threads();
  if (!worth_splitting || threads == 1 || n <= 1) {
    if (n > 0) body(int64_t{0}, n);
    return;
  }
  const int64_t pieces = n < 4 * threads ? n : 4 * threads;
  parallel_tasks(pieces, [&](int64_t piece) { body(n * piece / pieces, n * (piece + 1) / pieces); });
}

// Calls body(slot, begin, end) for slot in [0, slots), slot s covering its fixed share of
// [0, n) (the split of OpenMP's schedule(static): the first n % slots slots get one more). For
// loops that accumulate into per-slot buffers: the sums do not depend on which thread ran a slot.
template <typename Body>
void parallel_slots(int64_t slots, int64_t n, Body&& body) {
  parallel_tasks(slots, [&](int64_t slot) {
    const int64_t q = n / slots, r = n % slots;
    const int64_t begin = slot * q + (slot < r ? slot : r), end = begin + q + (slot < r ? 1 : 0);
    body(slot, begin, end);
  });
}

}  // namespace sws
