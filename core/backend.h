// The backend interface: the only way tensors reach kernels. nn/, autograd/ and optim/ call
// these functions; core/cpu_backend.cpp implements them with OpenMP and OpenBLAS, and a CUDA
// backend implements the same table. Conventions: every tensor argument is contiguous and on
// this backend's device; outputs are allocated by the caller with the documented shape; float
// kernels accept F32 and F64 (F64 exists for double-precision gradient checks).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/device.h"
#include "core/tensor.h"

namespace sws {

// Elementwise ops of Backend::unary and Backend::binary (binary shapes must match).
enum class UnaryOp { Neg, Exp, Log, Relu, Sqrt };
enum class BinaryOp { Add, Sub, Mul, Div };

// Geometry of a 2-D convolution over NCHW input with OIHW weights.
struct Conv2dGeometry {
  // Input [batch, in_channels, in_h, in_w], weights [out_channels, in_channels, kernel_h,
  // kernel_w], one stride and one zero padding for both axes; out_h/out_w give the output size.
  int64_t batch, in_channels, in_h, in_w;
  int64_t out_channels, kernel_h, kernel_w;
  int64_t stride, padding;
  int64_t out_h() const { return (in_h + 2 * padding - kernel_h) / stride + 1; }
  int64_t out_w() const { return (in_w + 2 * padding - kernel_w) / stride + 1; }
};

// Geometry of a 2-D max-pool (no padding) over NCHW input.
struct Pool2dGeometry {
  // Input [batch, channels, in_h, in_w]; square windows of `kernel` moved by `stride`.
  int64_t batch, channels, in_h, in_w;
  int64_t kernel, stride;
  int64_t out_h() const { return (in_h - kernel) / stride + 1; }
  int64_t out_w() const { return (in_w - kernel) / stride + 1; }
};

// One Adam step's constants (PyTorch's algorithm; `step` counts from 1).
struct AdamStep {
  // Learning rate, the moments' decay rates, the denominator's epsilon, L2 weight decay, and
  // the step number used for bias correction.
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;
};

// One tensor's Adam update, for Backend::adam_update_many: the parameter, its gradient, its two
// moment buffers (all contiguous, same shape, dtype and device) and its group's step constants.
struct AdamUpdate {
  // Handles to the tensors (param and the moments are updated in place) and the constants.
  Tensor param, grad, exp_avg, exp_avg_sq;
  AdamStep step;
};

// One SGD step's constants (PyTorch's algorithm: buf = momentum*buf + g; p -= lr*buf).
struct SgdStep {
  // Learning rate, momentum (0: plain SGD, no buffer), L2 weight decay, Nesterov's variant.
  double lr, momentum, weight_decay;
  bool nesterov;
  bool first_step;  // buf starts as g, as in PyTorch
};

// What an allocator has done so far.
struct MemoryStats {
  size_t system_allocations = 0;  // blocks obtained from the system (not from the cache)
  size_t cached_bytes = 0;        // bytes held in the cache for reuse
};

// The table of kernels one device implements (core/cpu_backend.h, cuda/cuda_backend.h).
class Backend {
 public:
  virtual ~Backend() = default;
  // The device whose memory this backend's tensors live in.
  virtual Device device() const = 0;

  // --- memory ---------------------------------------------------------------------------------
  virtual void* allocate(size_t bytes) = 0;  // cached: no system call in a steady state
  // Returns a block from allocate (with the same size) to the cache.
  virtual void deallocate(void* ptr, size_t bytes) = 0;
  // System allocations so far and the bytes cached.
  virtual MemoryStats memory_stats() = 0;
  // Byte copies host -> this device, this device -> host, and within this device; they return
  // when the destination holds the data.
  virtual void copy_from_host(void* dst, const void* src, size_t bytes) = 0;
  virtual void copy_to_host(void* dst, const void* src, size_t bytes) = 0;
  virtual void copy_within(void* dst, const void* src, size_t bytes) = 0;
  // out (contiguous) = src gathered through src's strides; same dtype.
  virtual void make_contiguous(const Tensor& src, Tensor& out) = 0;

  // --- elementwise ----------------------------------------------------------------------------
  // Every element of out = value (converted to out's dtype).
  virtual void fill(Tensor& out, double value) = 0;
  virtual void cast(const Tensor& x, Tensor& out) = 0;  // same shape, any dtypes
  // out = op(x), and out = op(a, b) element by element (a, b, out of one shape and dtype).
  virtual void unary(UnaryOp op, const Tensor& x, Tensor& out) = 0;
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) = 0;
  // out = alpha * x + beta (beta a scalar added to every element).
  virtual void affine(const Tensor& x, double alpha, double beta, Tensor& out) = 0;
  // y += alpha * x.
  virtual void axpy(double alpha, const Tensor& x, Tensor& y) = 0;
  // out = grad where y > 0, else 0 (y is ReLU's output).
  virtual void relu_backward(const Tensor& grad, const Tensor& y, Tensor& out) = 0;

  // --- reductions -----------------------------------------------------------------------------
  // out (0-d) = sum of all elements of x, accumulated in double.
  virtual void sum(const Tensor& x, Tensor& out) = 0;
  // x: [N, C, S...] (S may be empty); out: [C] = sum over N and S.
  virtual void sum_per_channel(const Tensor& x, Tensor& out) = 0;
  // x: [N, C, S...] += bias[C] broadcast over N and S.
  virtual void add_per_channel(Tensor& x, const Tensor& bias) = 0;

  // --- linear algebra -------------------------------------------------------------------------
  // c = alpha * op(a) @ op(b) + beta * c for 2-D a, b, c; op transposes when ta / tb.
  virtual void gemm(bool ta, bool tb, double alpha, const Tensor& a, const Tensor& b, double beta,
                    Tensor& c) = 0;

  // --- convolution and pooling ----------------------------------------------------------------
  // out [N, O, OH, OW] = conv(x [N, C, H, W], w [O, C, KH, KW]) + bias [O] (bias may be null).
  virtual void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor* bias,
                              const Conv2dGeometry& g, Tensor& out) = 0;
  // Gradients of conv2d_forward; each output pointer may be null when not needed. They are
  // overwritten, not accumulated.
  virtual void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& grad_out,
                               const Conv2dGeometry& g, Tensor* grad_x, Tensor* grad_w,
                               Tensor* grad_bias) = 0;
  // out [N, C, OH, OW] = window maxima; argmax (I32, same shape) = flat index within the plane.
  virtual void max_pool2d_forward(const Tensor& x, const Pool2dGeometry& g, Tensor& out,
                                  Tensor& argmax) = 0;
  // grad_x (zeroed here) receives grad_out at each window's argmax.
  virtual void max_pool2d_backward(const Tensor& grad_out, const Tensor& argmax,
                                   const Pool2dGeometry& g, Tensor& grad_x) = 0;

  // --- softmax and loss -----------------------------------------------------------------------
  // out [B, C] = log_softmax over the last dimension of x [B, C].
  virtual void log_softmax(const Tensor& x, Tensor& out) = 0;
  // grad_x = grad - exp(y) * sum(grad) row by row (y = log_softmax output).
  virtual void log_softmax_backward(const Tensor& grad, const Tensor& y, Tensor& grad_x) = 0;
  // loss (0-d) = mean over rows of -log softmax(logits)[label]; probs [B, C] = softmax(logits).
  // labels: I32 [B], each in [0, C) (checked).
  virtual void cross_entropy_forward(const Tensor& logits, const Tensor& labels, Tensor& loss,
                                     Tensor& probs) = 0;
  // grad_logits = scale * (probs - onehot(labels)).
  virtual void cross_entropy_backward(const Tensor& probs, const Tensor& labels, double scale,
                                      Tensor& grad_logits) = 0;

  // --- soft weight-sharing prior ---------------------------------------------------------------
  // For the weights w (F32 or F64, any shape) and J mixture components given by `mixture`
  // (F64 [3, J] on this device: means mu_j, log mixing proportions log pi_j, log-precisions
  // gamma_j = log lambda_j), with responsibilities
  //   r_ij = pi_j N(w_i | mu_j, 1/lambda_j) / sum_k pi_k N(w_i | mu_k, 1/lambda_k):
  // writes grad_w[i] = sum_j r_ij lambda_j (w_i - mu_j)   (= d(-log p(w_i)) / dw_i), and ADDS
  // into stats (F64 [3J + 1]): [0, J) sum_i r_ij; [J, 2J) sum_i r_ij lambda_j (w_i - mu_j);
  // [2J, 3J) sum_i r_ij (1/2 - lambda_j (w_i - mu_j)^2 / 2); [3J] sum_i -log p(w_i).
  // One pass over w with a max-subtracted log-sum-exp; no N x J temporary.
  virtual void mixture_prior(const Tensor& w, const Tensor& mixture, Tensor& grad_w, Tensor& stats) = 0;

  // --- optimisers -----------------------------------------------------------------------------
  // One Adam step (PyTorch's algorithm) and one SGD step on one tensor, in place.
  virtual void adam_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                           const AdamStep& s) = 0;
  virtual void sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer,
                          const SgdStep& s) = 0;
  // Every update of one optimiser step at once, with the same result as calling adam_update on
  // each in order (the tensors of different updates never overlap). The default does exactly
  // that; the CUDA backend overrides it with one fused kernel launch for all the tensors.
  virtual void adam_update_many(const std::vector<AdamUpdate>& updates);

 protected:
  // gemm's sizes: c [m, n] = op(a) [m, k] op(b) [k, n].
  struct GemmSize {
    int64_t m, n, k;  // rows of c, columns of c, the inner dimension
  };
  // Checks that gemm's 2-D operands of one dtype agree and returns their sizes.
  static GemmSize gemm_size(bool ta, bool tb, const Tensor& a, const Tensor& b, const Tensor& c);
  // A gemm with no product to compute (m, n or k zero) is finished here (c = beta c, and c is
  // not read when beta = 0, BLAS's rule) and returns true; any other returns false.
  bool gemm_without_product(const GemmSize& size, double beta, Tensor& c);
};

// The backend serving a device; throws sws::Error when none is available (e.g. a CUDA device
// in a CPU-only build or on a machine without a GPU). In a CUDA build the CUDA backend is
// created on the first request for cuda:0 (core/cuda_available.h asks without throwing).
Backend& backend_for(Device device);
// Installs a backend for a device type, replacing the built-in one (e.g. a test double).
void register_backend(DeviceType type, Backend* backend);

}  // namespace sws
