// Differentiable ops. Each runs its kernel through the inputs' backend and, when grad mode is
// on and an input requires grad, records a node holding only what its backward needs.
// Inputs of one op must share dtype and device; strided inputs are made contiguous first.
#pragma once
#include "core/tensor.h"

namespace sws {

// --- elementwise (same shapes, no broadcasting) ---------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor relu(const Tensor& x);
// alpha * x + beta.
Tensor affine(const Tensor& x, double alpha, double beta);
inline Tensor mul_scalar(const Tensor& x, double s) { return affine(x, s, 0.0); }
inline Tensor add_scalar(const Tensor& x, double s) { return affine(x, 1.0, s); }

// --- reductions and shapes --------------------------------------------------------------------
// Sum / mean of all elements (a 0-d tensor).
Tensor sum(const Tensor& x);
Tensor mean(const Tensor& x);
// The same data with another shape (one size may be -1).
Tensor reshape(const Tensor& x, const Shape& shape);
// [N, ...] -> [N, prod(...)].
Tensor flatten(const Tensor& x);

// --- layers -----------------------------------------------------------------------------------
// a [M, K] @ b [K, N].
Tensor matmul(const Tensor& a, const Tensor& b);
// x [B, in] @ w[out, in]^T + bias [out] (bias may be undefined), PyTorch's layout.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias);
// x [N, C, H, W] * w [O, C, KH, KW] + bias [O] (bias may be undefined).
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, int64_t stride = 1,
              int64_t padding = 0);
// Max over kernel x kernel windows moved by stride (no padding).
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride);

// --- softmax and loss -------------------------------------------------------------------------
// log_softmax over the last dimension of x [B, C].
Tensor log_softmax(const Tensor& x);
// Mean over the batch of -log softmax(logits)[label]; labels I32 [B].
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);

}  // namespace sws
