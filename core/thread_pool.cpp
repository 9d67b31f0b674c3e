#include "core/thread_pool.h"

#include <cblas.h>
#include <immintrin.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "core/cpu_quota.h"
#include "core/error.h"
#include "core/threads.h"

namespace sws {

namespace {

// How long an idle worker spins before it sleeps: long enough to cover the serial stretches
// between a training step's parallel loops (tens to hundreds of microseconds), so that on a quiet
// machine a worker is awake when the next loop starts (waking a sleeping one costs ~45 us here).
// While it spins it yields to any other runnable thread, so the spinning costs another program
// (or another sws) nothing but the time it would otherwise leave idle.
constexpr auto kWorkerSpin = std::chrono::microseconds(2000);
// How long a caller whose claimed tasks run late elsewhere spins before it sleeps. Sleeping frees
// its core, and the kernel then moves the late thread there if another program holds its own.
constexpr auto kCallerSpin = std::chrono::microseconds(50);

long futex(std::atomic<uint32_t>* word, int op, uint32_t value) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, value, nullptr, nullptr, 0);
}
void futex_wait(std::atomic<uint32_t>* word, uint32_t expected) { futex(word, FUTEX_WAIT_PRIVATE, expected); }
void futex_wake_all(std::atomic<uint32_t>* word) { futex(word, FUTEX_WAKE_PRIVATE, INT_MAX); }

// The job word packs a generation (which loop), its task count and the next unclaimed task, so
// that one compare-and-swap both claims a task and proves the loop is still the one that was read.
constexpr uint64_t kMaxTasks = 0xffff;
uint64_t pack(uint64_t generation, uint64_t tasks, uint64_t next) { return generation << 32 | tasks << 16 | next; }
uint32_t generation_of(uint64_t word) { return static_cast<uint32_t>(word >> 32); }
uint64_t tasks_of(uint64_t word) { return (word >> 16) & kMaxTasks; }
uint64_t next_of(uint64_t word) { return word & kMaxTasks; }

thread_local int tl_thread_index = 0;
thread_local bool tl_inside_task = false;

class Pool {
 public:
  // Started at first use with the default thread count (OMP_NUM_THREADS, else the CPUs
  // available), as OpenMP did; set_num_threads() resizes it.
  Pool() {
    int threads = 1;
    try {
      threads = choose_thread_count(0).count;
    } catch (const Error&) {
      threads = available_cpus();  // a malformed OMP_NUM_THREADS is reported where it is read for a command
    }
    resize(threads);
  }
  ~Pool() { resize(1); }

  void resize(int threads) {
    SWS_CHECK(threads >= 1, "thread count must be at least 1, got " + std::to_string(threads));
    std::lock_guard<std::mutex> hold(caller_);
    // The BLAS runs single-threaded inside the tasks (blas_gemm in core/cpu_backend.cpp); a
    // threaded OpenBLAS would start an OpenMP team from every task, and that team's barriers are
    // what this pool replaces.
    openblas_set_num_threads(1);
    if (threads == static_cast<int>(workers_.size()) + 1) return;
    stop_.store(true);
    wake_workers();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
    stop_.store(false);
    for (int i = 1; i < threads; ++i) {
      workers_.emplace_back([this, i] { work(i); });
      // Named here, not by the worker itself: under load a new worker may not run before the
      // caller has claimed every piece of the first loop, and it must already show as a worker.
      pthread_setname_np(workers_.back().native_handle(), kWorkerName);  // /proc/PID/task/*/comm, top -H
    }
    threads_.store(threads);
  }

  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void run(int64_t tasks, TaskFunction fn, void* context) {
    auto run_inline = [&] {
      for (int64_t t = 0; t < tasks; ++t) fn(context, t);
    };
    // A loop inside a task runs inline: its thread may hold caller_ already (try_lock on a mutex
    // one owns is undefined), and the pool's threads are busy with the outer loop anyway.
    if (tl_inside_task) return run_inline();
    std::unique_lock<std::mutex> hold(caller_, std::try_to_lock);
    if (!hold.owns_lock() || workers_.empty()) return run_inline();  // another caller's loop, or one thread
    for (int64_t first = 0; first < tasks; first += kMaxTasks) {
      const int64_t count = std::min<int64_t>(kMaxTasks, tasks - first);
      run_round(first, count, fn, context);
    }
  }

 private:
  void run_round(int64_t first, int64_t count, TaskFunction fn, void* context) {
    fn_ = fn, context_ = context, first_ = first;
    error_ = nullptr;
    done_.store(0);
    const uint64_t generation = generation_of(job_.load()) + 1;
    job_.store(pack(generation, static_cast<uint64_t>(count), 0));
    if (sleeping_workers_.load() > 0) wake_workers();
    run_claimed(generation);
    wait_until_done(static_cast<uint32_t>(count));
    if (error_) std::rethrow_exception(error_);
  }

  // Claims and runs tasks of `generation` until none is left; any thread may call it.
  void run_claimed(uint32_t generation) {
    uint64_t word = job_.load();
    while (generation_of(word) == generation && next_of(word) < tasks_of(word)) {
      if (!job_.compare_exchange_weak(word, word + 1)) continue;  // `word` now holds the current value
      const int64_t task = first_ + static_cast<int64_t>(next_of(word));
      tl_inside_task = true;
      try {
        fn_(context_, task);
      } catch (...) {
        std::lock_guard<std::mutex> hold(error_lock_);
        if (!error_) error_ = std::current_exception();
      }
      tl_inside_task = false;
      const uint32_t finished = done_.fetch_add(1) + 1;
      if (finished == tasks_of(word) && caller_sleeping_.load()) futex_wake_all(&done_);
      word = job_.load();
    }
  }

  void wait_until_done(uint32_t count) {
    const auto until = std::chrono::steady_clock::now() + kCallerSpin;
    for (int i = 0; done_.load() != count; ++i) {
      if (i % 64 != 63) {
        _mm_pause();
        continue;
      }
      if (std::chrono::steady_clock::now() < until) continue;
      caller_sleeping_.store(true);
      const uint32_t seen = done_.load();
      if (seen != count) futex_wait(&done_, seen);
      caller_sleeping_.store(false);
    }
  }

  void wake_workers() {
    wake_epoch_.fetch_add(1);
    futex_wake_all(&wake_epoch_);
  }

  void work(int index) {
    tl_thread_index = index;
    uint32_t seen = generation_of(job_.load());
    while (!stop_.load()) {
      const uint32_t now = generation_of(job_.load());
      if (now != seen) {
        seen = now;
        run_claimed(now);
        continue;
      }
      idle_until_new_job(seen);
    }
  }

  // Spins (yielding) for kWorkerSpin or until a new job or a stop appears, then sleeps.
  void idle_until_new_job(uint32_t seen) {
    const auto until = std::chrono::steady_clock::now() + kWorkerSpin;
    for (int i = 1;; ++i) {
      if (generation_of(job_.load()) != seen || stop_.load()) return;
      if (i % 16 != 0) {
        _mm_pause();
        continue;
      }
      sched_yield();
      if (std::chrono::steady_clock::now() > until) break;
    }
    sleeping_workers_.fetch_add(1);
    const uint32_t epoch = wake_epoch_.load();
    if (generation_of(job_.load()) == seen && !stop_.load()) futex_wait(&wake_epoch_, epoch);
    sleeping_workers_.fetch_sub(1);
  }

  std::mutex caller_;  // one loop at a time; held by the calling thread for the loop's length
  std::vector<std::thread> workers_;
  std::atomic<int> threads_{1};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> job_{0};
  std::atomic<uint32_t> done_{0};
  std::atomic<bool> caller_sleeping_{false};
  std::atomic<uint32_t> wake_epoch_{0};
  std::atomic<int> sleeping_workers_{0};
  TaskFunction fn_ = nullptr;
  void* context_ = nullptr;
  int64_t first_ = 0;
  std::mutex error_lock_;
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool instance;
  return instance;
}

}  // namespace

void run_tasks(int64_t tasks, TaskFunction fn, void* context) {
  if (tasks <= 0) return;
  pool().run(tasks, fn, context);
}

int pool_thread_index() { return tl_thread_index; }

int pool_threads() { return pool().threads(); }

void resize_pool(int threads) { pool().resize(threads); }

}  // namespace sws
