// A program that uses the sws library as a user's would, to check from outside how its threads
// look while it computes (tests/threads_test.sh builds it in-tree; tests/install_test.sh builds
// it against the installed package):
//   runtime_probe [--threads N]
// It runs a convolution (forward and backward), a GEMM large enough to be split and a reduction
// through sws, then prints the thread count and where it came from, the process's threads as the
// kernel lists them (sws's pool workers and any others) and OpenBLAS's own thread count.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "autograd/ops.h"
#include "core/blas_kernels.h"
#include "core/rng.h"
#include "core/threads.h"

int main(int argc, char** argv) {
  int requested = 0;
  if (argc == 3 && std::strcmp(argv[1], "--threads") == 0) requested = std::atoi(argv[2]);
  else if (argc != 1) {
    std::fprintf(stderr, "usage: runtime_probe [--threads N]\n");
    return 2;
  }
  try {
    const sws::ThreadChoice threads = sws::choose_thread_count(requested);
    if (requested > 0) sws::set_num_threads(threads.count);
    sws::Rng rng(1);
    auto random = [&](const sws::Shape& shape) {
      sws::Tensor t = sws::Tensor::empty(shape);
      float* p = t.data<float>();
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(rng.uniform() - 0.5);
      t.set_requires_grad(true);
      return t;
    };
    sws::Tensor x = random({64, 1, 28, 28}), w = random({20, 1, 5, 5}), b = random({20});
    sws::Tensor fc = random({500, 11520}), fb = random({500});
    sws::Tensor y = sws::linear(sws::flatten(sws::conv2d(x, w, b, 1, 0)), fc, fb);
    sws::sum(y).backward();
    const sws::ProcessThreads seen = sws::process_threads();
    std::printf("threads %d (%s)\nworkers %d\nothers %d\nblas_threads %d\n", sws::num_threads(),
                requested > 0 ? "--threads" : sws::describe(threads.source).c_str(), seen.workers, seen.others,
                sws::blas_thread_count());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runtime_probe: %s\n", e.what());
    return 1;
  }
  return 0;
}
