// The Gaussian-mixture prior on the GPU: value, grad_w and the 3J + 1 statistics in one fused
// kernel, then a tiny second kernel that adds the per-block partial sums into `stats`, exactly
// the contract of Backend::mixture_prior (core/backend.h) and core/cpu_mixture_prior.cpp:
//   a_j = log pi_j + gamma_j / 2 - log(2 pi) / 2 - lambda_j (w - mu_j)^2 / 2   (lambda_j = exp gamma_j)
//   -log p(w) = -(m + log sum_j exp(a_j - m)), m = max_j a_j;  r_j = exp(a_j - m) / sum
//
// Kernel 1: block b walks tiles of kTile consecutive weights (b, b + G, ...; G fixed by n alone);
// each thread takes kPerThread weights of a tile (coalesced: thread t, t + 256, ...), keeps them,
// their maximum and their 1/sum in registers, and loops over the J components three times (max,
// sum, responsibilities), recomputing a_j rather than storing an N x J array. grad_w is written
// per weight; the per-component sums are reduced over each warp (fixed shuffle pattern) and added
// by lane 0 into its warp's row of shared memory, in double. At the end the block adds its warps'
// rows in warp order and writes one row of `partial` [G, 3J + 1].
// Kernel 2: one thread per statistic adds the G rows in block order and adds that to stats.
// Extra memory: G x (3J + 1) doubles. Every sum has a fixed order, so two calls give the same bits.
#include <climits>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_kernels.cuh"

namespace sws::cuda {

namespace {

constexpr int kPerThread = 4;
constexpr int64_t kTile = static_cast<int64_t>(kThreads) * kPerThread;
constexpr int kMaxBlocks = 1024;

// Shared memory: kWarps rows of 3J + 1 doubles, then mu, c, lambda (J values of T each).
template <typename T>
size_t prior_shared_bytes(int J) {
  return sizeof(double) * static_cast<size_t>(kWarps) * (3 * J + 1) + sizeof(T) * 3 * static_cast<size_t>(J);
}

template <typename T>
__global__ void mixture_prior_kernel(const T* w, int64_t n, const double* mixture, int J, T* grad_w,
                                     double* partial) {
  extern __shared__ double shared[];
  const int width = 3 * J + 1;
  double* warp_stats = shared;  // [kWarps][width]
  T* mu = reinterpret_cast<T*>(shared + kWarps * width);
  T* c = mu + J;
  T* lambda = c + J;
  // The component constants, rounded to T as the CPU rounds them.
  for (int j = threadIdx.x; j < J; j += blockDim.x) {
    mu[j] = static_cast<T>(mixture[j]);
    c[j] = static_cast<T>(mixture[J + j] + 0.5 * mixture[2 * J + j] - 0.5 * ::log(6.283185307179586));
    lambda[j] = static_cast<T>(::exp(mixture[2 * J + j]));
  }
  for (int k = threadIdx.x; k < kWarps * width; k += blockDim.x) warp_stats[k] = 0.0;
  __syncthreads();

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  double* my_row = warp_stats + warp * width;
  double nll = 0.0;
  for (int64_t tile = blockIdx.x; tile * kTile < n; tile += gridDim.x) {
    T wv[kPerThread], m[kPerThread], inv_s[kPerThread], gw[kPerThread];
    bool valid[kPerThread];
    for (int k = 0; k < kPerThread; ++k) {
      const int64_t i = tile * kTile + k * blockDim.x + threadIdx.x;
      valid[k] = i < n;
      wv[k] = valid[k] ? w[i] : T(0);
      m[k] = -INFINITY;
      inv_s[k] = T(0);
      gw[k] = T(0);
    }
    for (int j = 0; j < J; ++j)
      for (int k = 0; k < kPerThread; ++k) {
        const T d = wv[k] - mu[j];
        const T a = c[j] - T(0.5) * lambda[j] * d * d;
        m[k] = a > m[k] ? a : m[k];
      }
    for (int j = 0; j < J; ++j)
      for (int k = 0; k < kPerThread; ++k) {
        const T d = wv[k] - mu[j];
        inv_s[k] += exp_of(c[j] - T(0.5) * lambda[j] * d * d - m[k]);  // the sum, inverted below
      }
    for (int k = 0; k < kPerThread; ++k) {
      if (valid[k]) nll -= static_cast<double>(m[k] + log_of(inv_s[k]));
      inv_s[k] = T(1) / inv_s[k];
    }
    for (int j = 0; j < J; ++j) {
      double sum_r = 0.0, sum_rld = 0.0, sum_rq = 0.0;
      for (int k = 0; k < kPerThread; ++k) {
        const T d = wv[k] - mu[j];
        const T r = exp_of(c[j] - T(0.5) * lambda[j] * d * d - m[k]) * inv_s[k];
        const T rld = r * lambda[j] * d;
        gw[k] += rld;
        if (valid[k]) {
          sum_r += static_cast<double>(r);
          sum_rld += static_cast<double>(rld);
          sum_rq += static_cast<double>(r * (T(0.5) - T(0.5) * lambda[j] * d * d));
        }
      }
      sum_r = warp_sum(sum_r);
      sum_rld = warp_sum(sum_rld);
      sum_rq = warp_sum(sum_rq);
      if (lane == 0) {  // only this warp's lane 0 touches its row: no race
        my_row[j] += sum_r;
        my_row[J + j] += sum_rld;
        my_row[2 * J + j] += sum_rq;
      }
    }
    for (int k = 0; k < kPerThread; ++k)
      if (valid[k]) grad_w[tile * kTile + k * blockDim.x + threadIdx.x] = gw[k];
  }
  nll = warp_sum(nll);
  if (lane == 0) my_row[3 * J] += nll;
  __syncthreads();
  for (int t = threadIdx.x; t < width; t += blockDim.x) {
    double s = 0.0;
    for (int v = 0; v < kWarps; ++v) s += warp_stats[v * width + t];
    partial[static_cast<int64_t>(blockIdx.x) * width + t] = s;
  }
}

// stats[t] += sum over blocks b (in order) of partial[b][t].
__global__ void mixture_prior_finish_kernel(const double* partial, int blocks, int width, double* stats) {
  for (int t = threadIdx.x; t < width; t += blockDim.x) {
    double s = 0.0;
    for (int b = 0; b < blocks; ++b) s += partial[static_cast<int64_t>(b) * width + t];
    stats[t] += s;
  }
}

}  // namespace

void CudaBackend::mixture_prior(const Tensor& w, const Tensor& mixture, Tensor& grad_w, Tensor& stats) {
  check_operands("mixture_prior", {&w, &mixture, &grad_w, &stats});
  SWS_CHECK(mixture.dtype() == DType::F64 && mixture.dim() == 2 && mixture.size(0) == 3,
            "mixture_prior: mixture must be F64 [3, J], got " + describe(mixture));
  const int64_t J = mixture.size(1), n = w.numel();
  SWS_CHECK(J >= 1 && J <= kMaxMixtureComponents,
            "mixture_prior on CUDA supports 1 to " + std::to_string(kMaxMixtureComponents) +
                " mixture components (shared memory per block), got " + std::to_string(J));
  SWS_CHECK(stats.dtype() == DType::F64 && stats.numel() == 3 * J + 1,
            "mixture_prior: stats must be F64 [" + std::to_string(3 * J + 1) + "], got " + describe(stats));
  SWS_CHECK(grad_w.dtype() == w.dtype() && grad_w.numel() == n,
            "mixture_prior: grad_w " + describe(grad_w) + " for weights " + describe(w));
  if (n == 0) return;
  const int components = static_cast<int>(J), width = 3 * components + 1;
  const int64_t tiles = (n + kTile - 1) / kTile;
  const int blocks = static_cast<int>(std::min<int64_t>(tiles, kMaxBlocks));  // fixed by n alone
  Tensor partial = Tensor::empty({static_cast<int64_t>(blocks) * width}, DType::F64, device());
  SWS_DISPATCH_FLOAT(w.dtype(), "mixture_prior", {
    const size_t shared_bytes = prior_shared_bytes<scalar_t>(components);
    mixture_prior_kernel<scalar_t><<<blocks, kThreads, shared_bytes>>>(
        w.data<scalar_t>(), n, mixture.data<double>(), components, grad_w.data<scalar_t>(), partial.data<double>());
    SWS_CUDA_CHECK_LAUNCH();
  });
  mixture_prior_finish_kernel<<<1, kThreads>>>(partial.data<double>(), blocks, width, stats.data<double>());
  SWS_CUDA_CHECK_LAUNCH();
}

}  // namespace sws::cuda
