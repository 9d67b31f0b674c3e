// The Gaussian-mixture prior's negative log-density and all its gradients in one pass
// (PAPER.md, "The prior" and the gradient list below "The loss").
//
// Per weight w and component j:  a_j = log pi_j + gamma_j / 2 - log(2 pi) / 2 - lambda_j (w - mu_j)^2 / 2
//   -log p(w) = -logsumexp_j a_j        (the maximum is subtracted before exponentiating)
//   r_j = exp(a_j - logsumexp a)        (responsibilities)
// Weights are processed in blocks of 64: the J x 64 values of a block sit in a small buffer
// (the only extra memory besides grad_w), loops run over the block's weights so they vectorise,
// and float exp/log are core/fast_math.h's. Blocks are grouped in fixed chunks whose sums are
// added in chunk order, so the result does not depend on the thread count.

#include <cmath>
#include <vector>

#include "core/cpu_backend.h"
#include "core/fast_math.h"

namespace sws {

namespace {

constexpr int64_t kBlock = 64;
constexpr int64_t kChunk = 64 * kBlock;

inline float exp_of(float x) { return fast_exp(x); }
inline double exp_of(double x) { return std::exp(x); }
inline float log_of(float x) { return fast_log(x); }
inline double log_of(double x) { return std::log(x); }

// One block of n <= kBlock weights; adds its sums to acc (double [3J + 1]).
template <typename T>
void prior_block(const T* __restrict w, int64_t n, int64_t J, const T* mu, const T* c, const T* lambda,
                 T* __restrict a, T* __restrict gw, double* acc) {
  T m[kBlock], s[kBlock];
  for (int64_t i = 0; i < n; ++i) m[i] = -INFINITY;
  for (int64_t j = 0; j < J; ++j) {
    T* aj = a + j * kBlock;
    for (int64_t i = 0; i < n; ++i) {
      const T d = w[i] - mu[j];
      aj[i] = c[j] - T(0.5) * lambda[j] * d * d;
      m[i] = aj[i] > m[i] ? aj[i] : m[i];
    }
  }
  for (int64_t i = 0; i < n; ++i) s[i] = 0;
  for (int64_t j = 0; j < J; ++j) {
    T* aj = a + j * kBlock;
    for (int64_t i = 0; i < n; ++i) {
      aj[i] = exp_of(aj[i] - m[i]);
      s[i] += aj[i];
    }
  }
  T nll = 0;
#pragma omp simd reduction(+ : nll)
  for (int64_t i = 0; i < n; ++i) {
    nll -= m[i] + log_of(s[i]);
    s[i] = T(1) / s[i];
    gw[i] = 0;
  }
  for (int64_t j = 0; j < J; ++j) {
    const T* aj = a + j * kBlock;
    T sum_r = 0, sum_rld = 0, sum_rq = 0;
    // 'omp simd' lets the compiler reorder these three sums across vector lanes.
#pragma omp simd reduction(+ : sum_r, sum_rld, sum_rq)
    for (int64_t i = 0; i < n; ++i) {
      const T r = aj[i] * s[i];
      const T d = w[i] - mu[j];
      const T rld = r * lambda[j] * d;
      gw[i] += rld;
      sum_r += r;
      sum_rld += rld;
      sum_rq += r * (T(0.5) - T(0.5) * lambda[j] * d * d);
    }
    acc[j] += sum_r;
    acc[J + j] += sum_rld;
    acc[2 * J + j] += sum_rq;
  }
  acc[3 * J] += nll;
}

}  // namespace

void CpuBackend::mixture_prior(const Tensor& w_t, const Tensor& mixture, Tensor& grad_w, Tensor& stats) {
  const int64_t J = mixture.size(1), n = w_t.numel();
  const double* mix = mixture.data<double>();
  double* out = stats.data<double>();
  const int64_t chunks = (n + kChunk - 1) / kChunk, width = 3 * J + 1;
  std::vector<double> partial(static_cast<size_t>(chunks * width), 0.0);
  dispatch_float(w_t.dtype(), "mixture_prior", [&](auto tag) {
    using T = decltype(tag);
    std::vector<T> mu(J), c(J), lambda(J);
    for (int64_t j = 0; j < J; ++j) {
      mu[j] = static_cast<T>(mix[j]);
      c[j] = static_cast<T>(mix[J + j] + 0.5 * mix[2 * J + j] - 0.5 * std::log(2 * M_PI));
      lambda[j] = static_cast<T>(std::exp(mix[2 * J + j]));
    }
    const T* w = w_t.data<T>();
    T* gw = grad_w.data<T>();
    parallel_for(chunks, chunks > 1, [&](int64_t lo, int64_t hi) {
      std::vector<T> a(static_cast<size_t>(J * kBlock));  // responsibilities of one block
      for (int64_t ch = lo; ch < hi; ++ch) {
        const int64_t end = std::min(n, (ch + 1) * kChunk);
        for (int64_t b = ch * kChunk; b < end; b += kBlock)
          prior_block(w + b, std::min(kBlock, end - b), J, mu.data(), c.data(), lambda.data(), a.data(), gw + b,
                      partial.data() + ch * width);
      }
    });
  });
  for (int64_t ch = 0; ch < chunks; ++ch)
    for (int64_t k = 0; k < width; ++k) out[k] += partial[ch * width + k];
}

}  // namespace sws
