// The CPU backend: loops on sws's thread pool (core/thread_pool.h), OpenBLAS GEMM, im2col
// convolution, and a caching allocator.
// Internal to core/: everything else reaches it through backend_for(Device::cpu()).
#pragma once
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/backend.h"
#include "core/block_cache.h"
#include "core/error.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace sws {

// The CPU implementation of every Backend kernel (the comments are in core/backend.h).
class CpuBackend final : public Backend {
 public:
  ~CpuBackend() override;
  Device device() const override { return Device::cpu(); }

  void* allocate(size_t bytes) override;
  void deallocate(void* ptr, size_t bytes) override;
  MemoryStats memory_stats() override;
  void copy_from_host(void* dst, const void* src, size_t bytes) override;
  void copy_to_host(void* dst, const void* src, size_t bytes) override;
  void copy_within(void* dst, const void* src, size_t bytes) override;
  void make_contiguous(const Tensor& src, Tensor& out) override;

  void fill(Tensor& out, double value) override;
  void cast(const Tensor& x, Tensor& out) override;
  void unary(UnaryOp op, const Tensor& x, Tensor& out) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) override;
  void affine(const Tensor& x, double alpha, double beta, Tensor& out) override;
  void axpy(double alpha, const Tensor& x, Tensor& y) override;
  void relu_backward(const Tensor& grad, const Tensor& y, Tensor& out) override;

  void sum(const Tensor& x, Tensor& out) override;
  void sum_per_channel(const Tensor& x, Tensor& out) override;
  void add_per_channel(Tensor& x, const Tensor& bias) override;

  void gemm(bool ta, bool tb, double alpha, const Tensor& a, const Tensor& b, double beta,
            Tensor& c) override;

  void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor* bias,
                      const Conv2dGeometry& g, Tensor& out) override;
  void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& grad_out,
                       const Conv2dGeometry& g, Tensor* grad_x, Tensor* grad_w,
                       Tensor* grad_bias) override;
  void max_pool2d_forward(const Tensor& x, const Pool2dGeometry& g, Tensor& out,
                          Tensor& argmax) override;
  void max_pool2d_backward(const Tensor& grad_out, const Tensor& argmax, const Pool2dGeometry& g,
                           Tensor& grad_x) override;

  void log_softmax(const Tensor& x, Tensor& out) override;
  void log_softmax_backward(const Tensor& grad, const Tensor& y, Tensor& grad_x) override;
  void cross_entropy_forward(const Tensor& logits, const Tensor& labels, Tensor& loss,
                             Tensor& probs) override;
  void cross_entropy_backward(const Tensor& probs, const Tensor& labels, double scale,
                              Tensor& grad_logits) override;

  void mixture_prior(const Tensor& w, const Tensor& mixture, Tensor& grad_w, Tensor& stats) override;

  void adam_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                   const AdamStep& s) override;
  void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer,
                  const SgdStep& s) override;

 private:
  // Freed blocks by (rounded) size, reused by the next allocation of that size.
  BlockCache cache_;
};

// Elements at or above which a loop is worth splitting across the pool's threads.
constexpr int64_t kParallelGrain = 1 << 15;

// Calls fn(T{}) with T = float or double according to dtype; throws for other dtypes.
template <typename Fn>
void dispatch_float(DType dtype, const char* op, Fn&& fn) {
  if (dtype == DType::F32) {
    fn(float{});
  } else if (dtype == DType::F64) {
    fn(double{});
  } else {
    throw Error(std::string(op) + ": unsupported dtype " + dtype_name(dtype) + " (F32 or F64 only)");
  }
}

// Row-major GEMM through OpenBLAS: C[M,N] = alpha op(A) op(B) + beta C.
void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
               int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc);

}  // namespace sws
