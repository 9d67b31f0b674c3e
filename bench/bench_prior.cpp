// Times the mixture prior's value + every gradient (w, mu, log-precision, mixing logits) for N
// weights and J = 17, as ../shared/peer/torch_peer.py's `prior` does for PyTorch, and prints JSON
// lines that join with the peer's on (kind, n, threads).
//   bench_prior [--threads 2] [--reps 20] [--n 266610 431080 642460 10000000]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "compress/gaussian_mixture_prior.h"
#include "core/blas_kernels.h"
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

int main(int argc, char** argv) {
  ensure_fast_blas_kernels(argv);
  int threads = 2, reps = 20;
  std::vector<int64_t> sizes = {266610, 431080, 642460, 10000000};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (a == "--n") { sizes.clear(); while (i + 1 < argc && argv[i + 1][0] != '-') sizes.push_back(std::atoll(argv[++i])); }
    else { std::fprintf(stderr, "usage: bench_prior [--threads N] [--reps N] [--n N...]\n"); return 2; }
  }
  set_num_threads(threads);
  const int64_t J = 17;
  const double exps = exp_throughput(threads);
  std::printf("{\"kind\": \"exp_throughput\", \"impl\": \"sws\", \"threads\": %d, \"exp_per_s\": %.4g, "
              "\"weights_per_s_bound_j17\": %.4g}\n", threads, exps, exps / J);
  for (int64_t n : sizes) {
    Rng rng(0);
    std::vector<float> w(n);
    for (float& x : w) x = static_cast<float>(0.05 * rng.normal());  // as the peer: randn * 0.05
    std::vector<float> mu(J - 1);
    for (int64_t j = 0; j < J - 1; ++j) mu[j] = static_cast<float>(-0.6 + 1.2 * (j + 1) / (J - 1));
    Tensor tw = Tensor::from_vector(w, {n}), tmu = Tensor::from_vector(mu, {J - 1});
    Tensor gamma = Tensor::full({J}, -std::log(0.25 * 0.25)), rho = Tensor::zeros({J - 1});
    for (Tensor* t : {&tw, &tmu, &gamma, &rho}) t->set_requires_grad(true);
    std::vector<double> times;
    const int count = n > 5'000'000 ? 5 : reps;
    for (int r = 0; r < 2 + count; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      for (Tensor* t : {&tw, &tmu, &gamma, &rho}) t->set_grad(Tensor());
      mixture_negative_log_likelihood({tw}, tmu, gamma, rho, 0.999).backward();
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (r >= 2) times.push_back(dt);
    }
    std::sort(times.begin(), times.end());
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const double median = times[times.size() / 2];
    std::printf("{\"kind\": \"prior\", \"impl\": \"sws\", \"n\": %lld, \"threads\": %d, \"median_s\": %.6g, "
                "\"min_s\": %.6g, \"max_s\": %.6g, \"peak_rss_mb\": %.1f, \"weights_per_s\": %.4g}\n",
                static_cast<long long>(n), threads, median, times.front(), times.back(), usage.ru_maxrss / 1024.0,
                n / median);
    std::fflush(stdout);
  }
  return 0;
}
