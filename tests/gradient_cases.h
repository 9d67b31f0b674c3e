// The finite-difference gradient checks of every op with a backward, as functions of the device
// that evaluates them: tests/test_gradients.cpp runs them on the CPU, tests/cuda on the GPU.
#pragma once
#include "tests/gradcheck.h"

#include "autograd/ops.h"

namespace sws::testing {

// Gradients of elementwise ops.
inline void check_elementwise_ops_gradients(Device device) {
  Rng rng(1);
  Tensor a = random_input({3, 4}, rng), b = random_input({3, 4}, rng, 0.5, 2.0);
  check_gradients([](auto& in) { return add(in[0], in[1]); }, {a, b}, device);
  check_gradients([](auto& in) { return sub(in[0], in[1]); }, {a, b}, device);
  check_gradients([](auto& in) { return mul(in[0], in[1]); }, {a, b}, device);
  check_gradients([](auto& in) { return div(in[0], in[1]); }, {a, b}, device);
  check_gradients([](auto& in) { return neg(in[0]); }, {a}, device);
  check_gradients([](auto& in) { return exp(in[0]); }, {a}, device);
  check_gradients([](auto& in) { return log(in[0]); }, {b}, device);
  check_gradients([](auto& in) { return affine(in[0], -2.5, 0.75); }, {a}, device);
  // ReLU has a kink at 0: inputs are kept at least 0.1 away from it.
  Tensor c = random_input({5, 6}, rng, 0.1, 1.0);
  double* p = c.data<double>();
  for (int64_t i = 0; i < c.numel(); i += 2) p[i] = -p[i];
  check_gradients([](auto& in) { return relu(in[0]); }, {c}, device);
}

// Gradients of reductions, reshapes and a reused input.
inline void check_reductions_reshapes_and_reuse_gradients(Device device) {
  Rng rng(2);
  Tensor a = random_input({2, 3, 4}, rng);
  check_gradients([](auto& in) { return sum(in[0]); }, {a}, device);
  check_gradients([](auto& in) { return mean(in[0]); }, {a}, device);
  check_gradients([](auto& in) { return mul(reshape(in[0], {4, 6}), reshape(in[0], {4, 6})); }, {a}, device);
  check_gradients([](auto& in) { return flatten(in[0]); }, {a}, device);
  // x used three times: gradients from every use must accumulate.
  check_gradients([](auto& in) { return add(mul(in[0], in[0]), exp(in[0])); }, {a}, device);
}

// Gradients of matmul and linear.
inline void check_matmul_and_linear_gradients(Device device) {
  Rng rng(3);
  Tensor a = random_input({4, 5}, rng), b = random_input({5, 3}, rng);
  check_gradients([](auto& in) { return matmul(in[0], in[1]); }, {a, b}, device);
  Tensor x = random_input({6, 5}, rng), w = random_input({4, 5}, rng), bias = random_input({4}, rng);
  check_gradients([](auto& in) { return linear(in[0], in[1], in[2]); }, {x, w, bias}, device);
  check_gradients([](auto& in) { return linear(in[0], in[1], Tensor()); }, {x, w}, device);
}

// Gradients of conv2d with stride and padding.
inline void check_conv2d_gradients(Device device) {
  Rng rng(4);
  struct Case { int64_t n, c, h, w, o, k, stride, pad; };
  for (Case t : {Case{2, 1, 6, 6, 3, 3, 1, 0}, Case{2, 2, 7, 5, 3, 3, 2, 1}, Case{1, 3, 8, 8, 2, 5, 2, 2},
                 Case{3, 2, 5, 6, 4, 1, 1, 0}, Case{1, 2, 6, 7, 2, 3, 3, 1},
                 Case{9, 2, 4, 4, 3, 3, 1, 0}}) {  // the last: several images per GEMM
    CAPTURE(t.c);
    CAPTURE(t.stride);
    CAPTURE(t.pad);
    Tensor x = random_input({t.n, t.c, t.h, t.w}, rng);
    Tensor w = random_input({t.o, t.c, t.k, t.k}, rng);
    Tensor b = random_input({t.o}, rng);
    const int64_t s = t.stride, p = t.pad;
    check_gradients([s, p](auto& in) { return conv2d(in[0], in[1], in[2], s, p); }, {x, w, b}, device);
  }
}

// Gradients of max_pool2d (no ties).
inline void check_max_pool2d_gradients(Device device) {
  Rng rng(5);
  // A permutation of distinct values: no window has a tie, so the max is differentiable.
  const int64_t n = 2 * 3 * 6 * 6;
  std::vector<int64_t> perm = rng.permutation(n);
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = 0.01 * static_cast<double>(perm[i]);
  Tensor x = Tensor::from_vector(v, {2, 3, 6, 6});
  x.set_requires_grad(true);
  check_gradients([](auto& in) { return max_pool2d(in[0], 2, 2); }, {x}, device);
  check_gradients([](auto& in) { return max_pool2d(in[0], 3, 2); }, {x}, device);
}

// Gradients of log_softmax and cross_entropy.
inline void check_log_softmax_and_cross_entropy_gradients(Device device) {
  Rng rng(6);
  Tensor x = random_input({5, 7}, rng, -3.0, 3.0);
  check_gradients([](auto& in) { return log_softmax(in[0]); }, {x}, device);
  Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, 6, 3, 3, 1}, {5}, device);
  check_gradients([labels](auto& in) { return cross_entropy(in[0], labels); }, {x}, device);
}

// Gradients through a small LeNet-like stack.
inline void check_lenet_like_stack_gradients(Device device) {
  Rng rng(7);
  Tensor x = random_input({2, 1, 8, 8}, rng);
  Tensor w1 = random_input({3, 1, 3, 3}, rng), b1 = random_input({3}, rng);
  Tensor w2 = random_input({4, 27}, rng), b2 = random_input({4}, rng);
  Tensor labels = Tensor::from_vector(std::vector<int32_t>{1, 3}, {2}, device);
  check_gradients(
      [labels](auto& in) {
        Tensor h = max_pool2d(conv2d(in[0], in[1], in[2], 1, 0), 2, 2);  // [2, 3, 3, 3]
        return cross_entropy(linear(flatten(h), in[3], in[4]), labels);
      },
      {x, w1, b1, w2, b2}, device);
}

}  // namespace sws::testing
