// sws's thread pool (core/thread_pool.h): every task runs exactly once whatever the task count,
// exceptions come back to the caller, nested and concurrent loops are safe, slots cover their
// fixed shares, results do not depend on which thread ran what, and the process holds the pool's
// workers and no other thread (OpenBLAS single-threaded inside it).
#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "autograd/ops.h"
#include "core/blas_kernels.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "core/threads.h"

using namespace sws;

namespace {

Tensor random_tensor(const Shape& shape, Rng& rng) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(rng.uniform() - 0.5);
  return t;
}

// The weight and input gradients of a convolution and a linear layer after one backward pass.
std::vector<std::vector<double>> conv_and_linear_gradients(uint64_t seed) {
  Rng rng(seed);
  Tensor x = random_tensor({37, 3, 12, 12}, rng), w = random_tensor({8, 3, 3, 3}, rng), b = random_tensor({8}, rng);
  Tensor fc = random_tensor({300, 8 * 10 * 10}, rng), fb = random_tensor({300}, rng);
  for (Tensor* t : {&x, &w, &b, &fc, &fb}) t->set_requires_grad(true);
  sum(linear(flatten(conv2d(x, w, b, 1, 0)), fc, fb)).backward();
  return {x.grad().to_double_vector(), w.grad().to_double_vector(), b.grad().to_double_vector(),
          fc.grad().to_double_vector(), fb.grad().to_double_vector()};
}

}  // namespace

TEST_CASE("run_tasks runs every task exactly once, in rounds past 65535 tasks") {
  set_num_threads(3);
  for (int64_t tasks : {int64_t{1}, int64_t{2}, int64_t{7}, int64_t{1000}, int64_t{70001}}) {
    std::vector<std::atomic<int>> runs(static_cast<size_t>(tasks));
    parallel_tasks(tasks, [&](int64_t t) { runs[static_cast<size_t>(t)].fetch_add(1); });
    int64_t wrong = 0;
    for (const auto& r : runs) wrong += r.load() != 1;
    CHECK(wrong == 0);
  }
  set_num_threads(2);
}

TEST_CASE("parallel_for covers [0, n) in disjoint pieces; parallel_slots gives the static split") {
  set_num_threads(2);
  std::vector<std::atomic<int>> hits(1001);
  parallel_for(1001, true, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
  });
  int64_t wrong = 0;
  for (const auto& h : hits) wrong += h.load() != 1;
  CHECK(wrong == 0);
  // 10 over 4 slots: 3, 3, 2, 2 (OpenMP's schedule(static) split).
  std::vector<std::pair<int64_t, int64_t>> ranges(4);
  parallel_slots(4, 10, [&](int64_t slot, int64_t begin, int64_t end) { ranges[slot] = {begin, end}; });
  CHECK(ranges == std::vector<std::pair<int64_t, int64_t>>{{0, 3}, {3, 6}, {6, 8}, {8, 10}});
}

TEST_CASE("a task's exception reaches the caller after every task has run") {
  set_num_threads(2);
  std::atomic<int> ran{0};
  CHECK_THROWS_WITH(parallel_tasks(50,
                                   [&](int64_t t) {
                                     ran.fetch_add(1);
                                     if (t == 17) throw std::runtime_error("task 17 failed");
                                   }),
                    "task 17 failed");
  CHECK(ran.load() == 50);
  int after = 0;  // the pool still works
  parallel_tasks(4, [&](int64_t) { /* nothing */ });
  parallel_for(10, false, [&](int64_t lo, int64_t hi) { after += static_cast<int>(hi - lo); });
  CHECK(after == 10);
}

TEST_CASE("nested loops run inline and concurrent callers each get every task") {
  set_num_threads(2);
  std::atomic<int64_t> inner{0};
  parallel_tasks(8, [&](int64_t) { parallel_tasks(5, [&](int64_t) { inner.fetch_add(1); }); });
  CHECK(inner.load() == 40);
  // Two threads of a program use sws at once: one holds the pool, the other runs inline.
  std::atomic<int64_t> a{0}, b{0};
  auto loops = [](std::atomic<int64_t>& counter) {
    for (int i = 0; i < 200; ++i) parallel_tasks(16, [&](int64_t) { counter.fetch_add(1); });
  };
  std::thread other([&] { loops(b); });
  loops(a);
  other.join();
  CHECK(a.load() == 3200);
  CHECK(b.load() == 3200);
}

TEST_CASE("gradients are bit-identical run after run with the same thread count") {
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    const auto first = conv_and_linear_gradients(5);
    for (int repeat = 0; repeat < 5; ++repeat) CHECK(conv_and_linear_gradients(5) == first);
  }
  set_num_threads(2);
}

TEST_CASE("the process computes on the pool's workers and on no other thread") {
  set_num_threads(3);
  conv_and_linear_gradients(6);  // a split GEMM and convolution tasks
  ProcessThreads seen = process_threads();
  CHECK(seen.workers == 2);
  CHECK(seen.others == 0);  // OpenBLAS and OpenMP started no team of their own
  CHECK(blas_thread_count() == 1);
  set_num_threads(1);
  seen = process_threads();
  CHECK(seen.workers == 0);
  set_num_threads(2);
  CHECK(num_threads() == 2);
}
