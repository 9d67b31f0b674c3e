// Times the mixture prior's value + every gradient (w, mu, log-precision, mixing logits) for N
// weights and J = 17, as ../shared/peer/torch_peer.py's `prior` does for PyTorch, and prints JSON
// lines that join with the peer's on (kind, n, threads).
// With --device cuda the weights and the prior live on the GPU (a CUDA build with a visible GPU;
// otherwise it prints why and exits 77), bench/torch_gpu_peer.py is the peer, the CPU-only
// exp_throughput line is left out, and each line adds "gbytes_per_s": the op's minimum memory
// traffic (read w, write its gradient: 8 bytes per F32 weight) over the median time, to set
// against the GPU's bandwidth (H200: about 4.8 TB/s). Every line carries "device": "cpu" or "cuda".
//   bench_prior [--threads N (default: OMP_NUM_THREADS, else the CPUs available)] [--reps 20] [--n 266610 431080 642460 10000000] [--device cpu|cuda]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "compress/gaussian_mixture_prior.h"
#include "bench/bench_device.h"
#include "core/backend.h"
#include "core/blas_kernels.h"
#include "core/device.h"
#include "core/fast_math.h"
#include "core/rng.h"
#include "core/threads.h"

using namespace sws;

// exp evaluations per second that this CPU sustains with fast_exp on data in L1 cache, all
// threads: the prior evaluates J exponentials per weight, so J / this bounds its speed.
static double exp_throughput(int threads) {
  constexpr int kSize = 4096, kRounds = 20000;
  double total = 0;
  const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    std::vector<float> x(kSize);
    for (int i = 0; i < kSize; ++i) x[i] = -0.001f * static_cast<float>(i % 1000);
    float acc = 0;
    for (int r = 0; r < kRounds; ++r) {
#pragma omp simd reduction(+ : acc)
      for (int i = 0; i < kSize; ++i) acc += fast_exp(x[i] - 1e-6f * static_cast<float>(r));
    }
    total += acc;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (total == 42.0) std::printf("#\n");  // keeps the loop from being optimised away
  return static_cast<double>(threads) * kSize * kRounds / seconds;
}

// Waits until the device has run all the work queued so far: a host read of one element of `t`
// (written last by the call being timed). The CUDA backend issues every kernel on the legacy
// default stream and copies with a synchronous cudaMemcpy (cuda/cuda_backend.h, "Ordering"); a
// synchronous device-to-host copy there starts only after all earlier work, so returning from
// this read means the call is done. Nothing to wait for on the CPU.
static void wait_for_device(const Tensor& t) {
  if (t.device().is_cpu()) return;
  const Tensor flat = t.view({-1});
  (void)flat.rows(flat.numel() - 1, 1).to_float_vector();  // 4 bytes device -> host
}

int main(int argc, char** argv) {
  ensure_fast_blas_kernels(argv);
  int threads = 0, reps = 20;
  std::vector<int64_t> sizes = {266610, 431080, 642460, 10000000};
  std::string device_text = "cpu";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (a == "--n") { sizes.clear(); while (i + 1 < argc && argv[i + 1][0] != '-') sizes.push_back(std::atoll(argv[++i])); }
    else if (a == "--device" && i + 1 < argc) device_text = argv[++i];
    else { std::fprintf(stderr, "usage: bench_prior [--threads N] [--reps N] [--n N...] [--device cpu|cuda]\n"); return 2; }
  }
  Device device;
  if (int rc = open_bench_device("bench_prior", device_text, device)) return rc;
  const bool cpu = device.is_cpu();
  const char* device_kind = cpu ? "cpu" : "cuda";
  threads = choose_thread_count(threads).count;
  set_num_threads(threads);
  const int64_t J = 17;
  if (cpu) {
    const double exps = exp_throughput(threads);
    std::printf("{\"kind\": \"exp_throughput\", \"impl\": \"sws\", \"threads\": %d, \"device\": \"cpu\", "
                "\"exp_per_s\": %.4g, \"weights_per_s_bound_j17\": %.4g}\n", threads, exps, exps / J);
  }
  try {
    for (int64_t n : sizes) {
      Rng rng(0);
      std::vector<float> w(n);
      for (float& x : w) x = static_cast<float>(0.05 * rng.normal());  // as the peer: randn * 0.05
      std::vector<float> mu(J - 1);
      for (int64_t j = 0; j < J - 1; ++j) mu[j] = static_cast<float>(-0.6 + 1.2 * (j + 1) / (J - 1));
      Tensor tw = Tensor::from_vector(w, {n}, device), tmu = Tensor::from_vector(mu, {J - 1}, device);
      Tensor gamma = Tensor::full({J}, -std::log(0.25 * 0.25), DType::F32, device), rho = Tensor::zeros({J - 1}, DType::F32, device);
      for (Tensor* t : {&tw, &tmu, &gamma, &rho}) t->set_requires_grad(true);
      std::vector<double> times;
      const int count = n > 5'000'000 ? 5 : reps;
      for (int r = 0; r < 2 + count; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        for (Tensor* t : {&tw, &tmu, &gamma, &rho}) t->set_grad(Tensor());
        mixture_negative_log_likelihood({tw}, tmu, gamma, rho, 0.999).backward();
        // The backward pass scales the gradients in input order (w first, then mu, gamma, rho);
        // on the legacy default stream a read of w's gradient waits for all of it anyway.
        wait_for_device(tw.grad());
        const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (r >= 2) times.push_back(dt);
      }
      std::sort(times.begin(), times.end());
      rusage usage{};
      getrusage(RUSAGE_SELF, &usage);
      const double median = times[times.size() / 2];
      std::printf("{\"kind\": \"prior\", \"impl\": \"sws\", \"n\": %lld, \"threads\": %d, \"device\": \"%s\", "
                  "\"median_s\": %.6g, \"min_s\": %.6g, \"max_s\": %.6g, \"peak_rss_mb\": %.1f, \"weights_per_s\": %.4g",
                  static_cast<long long>(n), threads, device_kind, median, times.front(), times.back(),
                  usage.ru_maxrss / 1024.0, n / median);
      // Traffic of one call: read each weight and write its gradient, 4 + 4 bytes for F32 (a
      // training step's backward pass then scales that gradient in place, outside this timing).
      if (!cpu) std::printf(", \"gbytes_per_s\": %.4g", 8.0 * static_cast<double>(n) / median / 1e9);
      std::printf("}\n");
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_prior: error on %s: %s\n", device.name().c_str(), e.what());
    return 1;
  }
  return 0;
}
