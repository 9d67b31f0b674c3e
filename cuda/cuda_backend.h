// The CUDA backend: the Backend interface (core/backend.h) on one NVIDIA GPU (cuda:0), with
// cuBLAS for GEMM, cuDNN for convolution and hand-written kernels for everything else. Every op
// is tested against the CPU backend (tests/cuda/). Reached through backend_for(Device::cuda()),
// which creates it on first use; this header is for the backend's own sources and its tests.
//
// Files: cuda_backend.cu (memory, registry, elementwise ops, reductions, GEMM, optimisers),
// cuda_conv.cu (cuDNN convolution, max-pool kernels), cuda_softmax.cu (log-softmax and
// cross-entropy), cuda_mixture_prior.cu (the fused prior kernel); cuda_kernels.cuh holds the
// helpers they share.
//
// Ordering: every kernel, cuBLAS and cuDNN call runs on the legacy default stream and every
// copy is a synchronous cudaMemcpy, so work runs in issue order. That is what makes the caching
// allocator safe: a block freed while a kernel may still read it is only handed to work queued
// after that kernel.
//
// Status: written and compiled against CUDA 13 / cuDNN 9 on a machine without a GPU; tests/cuda/
// (tools/gpu-check.sh runs them) have not yet run on one.
//
// Determinism: reductions use a grid that depends only on the input size, per-block partial
// sums and a second pass that adds them in a fixed order (no floating-point atomics), and cuDNN
// algorithms are chosen deterministic; the same inputs give the same bits on the same GPU.
#pragma once
#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/block_cache.h"
#include "core/tensor.h"

// The caching allocator hands a freed block to the next request at once, which is safe only
// because all work runs in issue order on the legacy default stream (see "Ordering" above).
#ifdef CUDA_API_PER_THREAD_DEFAULT_STREAM
#error "the CUDA backend assumes the legacy default stream: do not build it with --default-stream per-thread"
#endif

struct cublasContext;  // cublasHandle_t is cublasContext*
struct cudnnContext;   // cudnnHandle_t is cudnnContext*

namespace sws::cuda {

// The CUDA implementation of every Backend kernel on GPU 0 (the comments are in core/backend.h).
class CudaBackend final : public Backend {
 public:
  // Selects GPU 0 and creates its context; throws sws::Error when that fails.
  CudaBackend();
  // Frees the cached blocks and the library handles; never throws (it may run at process exit,
  // when the CUDA runtime is already unloading).
  ~CudaBackend() override;
  Device device() const override { return Device::cuda(0); }

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
  // One kernel launch per dtype present (normally one) for all the updates.
  void adam_update_many(const std::vector<AdamUpdate>& updates) override;

  // The most mixture components mixture_prior accepts (its per-block shared memory grows with J).
  static constexpr int64_t kMaxMixtureComponents = 128;

 private:
  // cuBLAS and cuDNN handles, created on first use.
  cublasContext* cublas();
  cudnnContext* cudnn();
  // Returns every cached block to the driver (on an out-of-memory retry).
  void release_cache();

  // A cuDNN algorithm choice, made once per shape and direction (it runs with FMA math for F32).
  struct ConvChoice {
    int algorithm = -1;  // cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t; -1 until chosen
  };
  // (batch, C, H, W, O, KH, KW, stride, padding, dtype, direction) -> choice.
  using ConvKey = std::array<int64_t, 11>;
  enum ConvDirection : int64_t { kForward = 0, kBackwardData = 1, kBackwardFilter = 2 };
  static ConvKey conv_key(const Conv2dGeometry& g, DType dtype, ConvDirection direction);
  // The cached choice for key, or choose()'s answer, cached (choose runs without the lock held).
  ConvChoice cached_conv_choice(const ConvKey& key, const std::function<ConvChoice()>& choose);

  BlockCache cache_;
  std::mutex mutex_;  // guards the handles and the algorithm map
  cublasContext* cublas_ = nullptr;
  cudnnContext* cudnn_ = nullptr;
  std::map<ConvKey, ConvChoice> conv_choices_;
};

}  // namespace sws::cuda
