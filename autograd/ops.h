// Differentiable ops. Each runs its kernel through the inputs' backend and, when grad mode is
// on and an input requires grad, records a node holding only what its backward needs.
// Inputs of one op must share dtype and device; strided inputs are made contiguous first.
#pragma once
#include "core/tensor.h"

namespace sws {

// --- elementwise (same shapes, no broadcasting) ---------------------------------------------
// a + b, a - b, a * b, a / b; throws sws::Error unless a and b are floating-point tensors of one
// shape, dtype and device.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
// -x, e^x, ln x (no domain check: x <= 0 gives -inf / NaN), max(x, 0); x floating-point.
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor relu(const Tensor& x);
// alpha * x + beta.
Tensor affine(const Tensor& x, double alpha, double beta);
inline Tensor mul_scalar(const Tensor& x, double s) { return affine(x, s, 0.0); }  // x * s
inline Tensor add_scalar(const Tensor& x, double s) { return affine(x, 1.0, s); }  // x + s

// --- reductions and shapes --------------------------------------------------------------------
// Sum / mean of all elements (a 0-d tensor); mean throws sws::Error for an empty tensor.
Tensor sum(const Tensor& x);
Tensor mean(const Tensor& x);
// The same data with another shape (one size may be -1); a copy first if x is strided.
Tensor reshape(const Tensor& x, const Shape& shape);
// [N, ...] -> [N, prod(...)]; throws sws::Error for a 0-d tensor.
Tensor flatten(const Tensor& x);

// --- layers -----------------------------------------------------------------------------------
// a [M, K] @ b [K, N] -> [M, N].
Tensor matmul(const Tensor& a, const Tensor& b);
// x [B, in] @ w [out, in]^T + bias [out] -> [B, out] (bias may be undefined), PyTorch's layout.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias);
// Cross-correlation (as torch.nn.functional.conv2d) of x [N, C, H, W] with w [O, C, KH, KW] plus
// bias [O] (may be undefined), zero padding on every side -> [N, O, (H + 2p - KH) / s + 1,
// (W + 2p - KW) / s + 1]. Throws sws::Error on mismatched shapes, stride < 1 or padding < 0.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, int64_t stride = 1,
              int64_t padding = 0);
// Max over kernel x kernel windows of x [N, C, H, W] moved by stride (no padding)
// -> [N, C, (H - kernel) / stride + 1, (W - kernel) / stride + 1]; gradient to each window's max.
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride);

// --- softmax and loss -------------------------------------------------------------------------
// log_softmax over the last dimension of x [B, C] (max subtracted: stable) -> [B, C].
Tensor log_softmax(const Tensor& x);
// Mean over the batch of -log softmax(logits)[label] (a 0-d tensor); logits [B, C], labels I32
// [B] on the same device with values in [0, C) (else sws::Error). No gradient to the labels.
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);

}  // namespace sws
