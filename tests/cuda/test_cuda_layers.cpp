// CUDA convolution, pooling, softmax and cross-entropy against the CPU backend, and autograd
// through a small network on the device against the same network on the CPU.
#include "autograd/ops.h"
#include "tests/cuda/cuda_test_util.h"

using namespace sws;
using namespace sws::cudatest;

namespace {

// F32 convolution: both sides sum K = C*KH*KW products in float, in different orders.
double conv_atol(DType dtype, const Conv2dGeometry& g) {
  const double k = static_cast<double>(g.in_channels * g.kernel_h * g.kernel_w);
  return (dtype == DType::F32 ? 4e-6 : 1e-14) * std::sqrt(k) * 4;
}

}  // namespace

TEST_CASE("cuda: conv2d forward and backward match the CPU (stride, padding, odd sizes, F32 and F64)") {
  Rng rng(11);
  const std::vector<Conv2dGeometry> geometries = {
      {2, 3, 9, 11, 4, 3, 3, 1, 0},    // plain
      {3, 2, 13, 10, 5, 3, 3, 2, 1},   // stride 2 and padding
      {2, 4, 12, 12, 6, 5, 5, 2, 2},   // 5x5, stride 2, padding 2
      {4, 1, 28, 28, 20, 5, 5, 1, 0},  // LeNet-5's first layer
      {1, 3, 7, 5, 2, 3, 2, 1, 1},     // rectangular kernel
  };
  for (DType dtype : {DType::F32, DType::F64})
    for (const Conv2dGeometry& g : geometries) {
      const std::string tag = std::string(dtype_name(dtype)) + " C" + std::to_string(g.in_channels) + " H" +
                              std::to_string(g.in_h) + " K" + std::to_string(g.kernel_h) + " s" +
                              std::to_string(g.stride) + " p" + std::to_string(g.padding);
      const Shape xs = {g.batch, g.in_channels, g.in_h, g.in_w}, ws = {g.out_channels, g.in_channels, g.kernel_h, g.kernel_w};
      const Shape ys = {g.batch, g.out_channels, g.out_h(), g.out_w()};
      const Tensor x = random_tensor(xs, dtype, rng), w = random_tensor(ws, dtype, rng);
      const Tensor bias = random_tensor({g.out_channels}, dtype, rng), gy = random_tensor(ys, dtype, rng);
      const Tensor dx = on_gpu(x), dw = on_gpu(w), dbias = on_gpu(bias), dgy = on_gpu(gy);
      const double atol = conv_atol(dtype, g);
      for (bool with_bias : {true, false}) {
        Tensor hy = Tensor::empty(ys, dtype), dy = Tensor::empty(ys, dtype, dev());
        cpu().conv2d_forward(x, w, with_bias ? &bias : nullptr, g, hy);
        gpu().conv2d_forward(dx, dw, with_bias ? &dbias : nullptr, g, dy);
        expect_close(dy, hy, 0.0, atol, "conv forward " + tag + (with_bias ? " bias" : ""));
        Tensor again = Tensor::empty(ys, dtype, dev());
        gpu().conv2d_forward(dx, dw, with_bias ? &dbias : nullptr, g, again);
        expect_same_bits(again, dy, "conv forward twice " + tag);
      }
      Tensor hgx = Tensor::empty(xs, dtype), hgw = Tensor::empty(ws, dtype), hgb = Tensor::empty({g.out_channels}, dtype);
      cpu().conv2d_backward(x, w, gy, g, &hgx, &hgw, &hgb);
      Tensor ggx = Tensor::full(xs, 9.0, dtype, dev()), ggw = Tensor::full(ws, 9.0, dtype, dev());
      Tensor ggb = Tensor::full({g.out_channels}, 9.0, dtype, dev());  // overwritten, not accumulated
      gpu().conv2d_backward(dx, dw, dgy, g, &ggx, &ggw, &ggb);
      const double out_k = std::sqrt(static_cast<double>(g.batch * g.out_h() * g.out_w()));
      expect_close(ggx, hgx, 0.0, atol * 2, "conv grad_x " + tag);
      expect_close(ggw, hgw, 0.0, (dtype == DType::F32 ? 1.6e-5 : 1e-13) * out_k, "conv grad_w " + tag);
      expect_close(ggb, hgb, 0.0, (dtype == DType::F32 ? 1.6e-5 : 1e-13) * out_k, "conv grad_bias " + tag);
      // Null outputs are skipped; the others are still right.
      Tensor only_w = Tensor::empty(ws, dtype, dev());
      gpu().conv2d_backward(dx, dw, dgy, g, nullptr, &only_w, nullptr);
      expect_same_bits(only_w, ggw, "conv grad_w alone " + tag);
      Tensor only_x = Tensor::empty(xs, dtype, dev());
      gpu().conv2d_backward(dx, dw, dgy, g, &only_x, nullptr, nullptr);
      expect_same_bits(only_x, ggx, "conv grad_x alone " + tag);
    }
}

TEST_CASE("cuda: max_pool2d forward and backward match the CPU bit for bit, ties and overlaps included") {
  Rng rng(12);
  const std::vector<Pool2dGeometry> geometries = {
      {2, 3, 8, 8, 2, 2},    // the common 2x2 stride 2
      {3, 2, 9, 11, 3, 2},   // overlapping windows, odd sizes
      {2, 2, 7, 7, 3, 1},    // heavy overlap
      {1, 4, 10, 13, 2, 3},  // gaps between windows
  };
  for (DType dtype : {DType::F32, DType::F64})
    for (const Pool2dGeometry& g : geometries)
      for (bool ties : {false, true}) {
        const std::string tag = std::string(dtype_name(dtype)) + " k" + std::to_string(g.kernel) + " s" +
                                std::to_string(g.stride) + (ties ? " ties" : "");
        const Shape xs = {g.batch, g.channels, g.in_h, g.in_w}, ys = {g.batch, g.channels, g.out_h(), g.out_w()};
        const Tensor x = ties ? random_integers(xs, dtype, rng, 0, 3) : random_tensor(xs, dtype, rng);
        Tensor hy = Tensor::empty(ys, dtype), harg = Tensor::empty(ys, DType::I32);
        Tensor dy = Tensor::empty(ys, dtype, dev()), darg = Tensor::empty(ys, DType::I32, dev());
        cpu().max_pool2d_forward(x, g, hy, harg);
        gpu().max_pool2d_forward(on_gpu(x), g, dy, darg);
        expect_same_bits(dy, hy, "pool forward " + tag);
        expect_same_bits(darg, harg, "pool argmax " + tag);
        const Tensor gy = random_tensor(ys, dtype, rng);
        Tensor hgx = Tensor::empty(xs, dtype), dgx = Tensor::full(xs, 5.0, dtype, dev());
        cpu().max_pool2d_backward(gy, harg, g, hgx);
        gpu().max_pool2d_backward(on_gpu(gy), darg, g, dgx);
        expect_same_bits(dgx, hgx, "pool backward " + tag);
      }
}

TEST_CASE("cuda: log_softmax, cross-entropy and their gradients match the CPU") {
  Rng rng(13);
  for (DType dtype : {DType::F32, DType::F64})
    for (auto [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {5, 10}, {64, 10}, {3, 33}, {257, 100}, {2, 1000}}) {
      const std::string tag = std::string(dtype_name(dtype)) + " " + std::to_string(rows) + "x" + std::to_string(cols);
      const double rtol = dtype == DType::F32 ? 1e-6 : 1e-14, atol = dtype == DType::F32 ? 4e-6 : 1e-14;
      const Tensor x = random_tensor({rows, cols}, dtype, rng, -8.0, 8.0), gx = on_gpu(x);
      Tensor hy = Tensor::empty({rows, cols}, dtype), dy = Tensor::empty({rows, cols}, dtype, dev());
      cpu().log_softmax(x, hy);
      gpu().log_softmax(gx, dy);
      expect_close(dy, hy, rtol, atol, "log_softmax " + tag);
      const Tensor g = random_tensor({rows, cols}, dtype, rng);
      Tensor hd = Tensor::empty({rows, cols}, dtype), dd = Tensor::empty({rows, cols}, dtype, dev());
      cpu().log_softmax_backward(g, hy, hd);
      gpu().log_softmax_backward(on_gpu(g), on_gpu(hy), dd);
      expect_close(dd, hd, rtol * 4, atol * 4, "log_softmax_backward " + tag);

      std::vector<int32_t> labels(static_cast<size_t>(rows));
      for (int32_t& l : labels) l = static_cast<int32_t>(rng.below(static_cast<uint64_t>(cols)));
      const Tensor hl = Tensor::from_vector(labels, {rows}), dl = on_gpu(hl);
      Tensor hloss = Tensor::empty({}, dtype), hp = Tensor::empty({rows, cols}, dtype);
      Tensor dloss = Tensor::empty({}, dtype, dev()), dp = Tensor::empty({rows, cols}, dtype, dev());
      cpu().cross_entropy_forward(x, hl, hloss, hp);
      gpu().cross_entropy_forward(gx, dl, dloss, dp);
      expect_close(dloss, hloss, rtol, atol, "cross_entropy loss " + tag);
      expect_close(dp, hp, rtol, 1e-30, "cross_entropy probs " + tag);
      Tensor hgl = Tensor::empty({rows, cols}, dtype), dgl = Tensor::empty({rows, cols}, dtype, dev());
      cpu().cross_entropy_backward(hp, hl, 1.0 / static_cast<double>(rows), hgl);
      gpu().cross_entropy_backward(on_gpu(hp), dl, 1.0 / static_cast<double>(rows), dgl);
      // scale * p - scale: either side may fuse it into one rounding.
      expect_close(dgl, hgl, rtol, 1e-9, "cross_entropy_backward " + tag);
    }
}

TEST_CASE("cuda: cross-entropy rejects a label out of range with the CPU's message") {
  Rng rng(14);
  const Tensor x = random_tensor({6, 10}, DType::F32, rng);
  for (int32_t bad : {-1, 10, 1000}) {
    const Tensor labels = Tensor::from_vector(std::vector<int32_t>{1, 2, 3, bad, 4, bad}, {6});
    Tensor hl = Tensor::empty({}), hp = Tensor::empty({6, 10});
    Tensor dl = Tensor::empty({}, DType::F32, dev()), dp = Tensor::empty({6, 10}, DType::F32, dev());
    std::string cpu_message, gpu_message;
    try {
      cpu().cross_entropy_forward(x, labels, hl, hp);
    } catch (const Error& e) {
      cpu_message = e.what();
    }
    try {
      gpu().cross_entropy_forward(on_gpu(x), on_gpu(labels), dl, dp);
    } catch (const Error& e) {
      gpu_message = e.what();
    }
    CHECK(!cpu_message.empty());
    CHECK(gpu_message == cpu_message);
  }
  // The device is still usable after the error.
  Tensor y = Tensor::full({3}, 2.0, DType::F32, dev());
  CHECK(y.to_double_vector() == std::vector<double>{2.0, 2.0, 2.0});
}

namespace {

// A small convolutional network's loss on `device`: conv (stride 1, padding 1) -> relu ->
// max-pool 3/2 (overlapping) -> flatten -> linear -> log_softmax-free cross-entropy.
Tensor small_net_loss(const std::vector<Tensor>& p, const Tensor& x, const Tensor& labels) {
  Tensor h = conv2d(x, p[0], p[1], 1, 1);
  h = relu(h);
  h = max_pool2d(h, 3, 2);
  h = flatten(h);
  h = linear(h, p[2], p[3]);
  Tensor loss = cross_entropy(h, labels);
  // A second path through the elementwise ops and the reductions.
  Tensor extra = mean(mul(exp(mul_scalar(p[2], 0.5)), p[2]));
  return add(loss, mul_scalar(extra, 0.1));
}

}  // namespace

TEST_CASE("cuda: autograd through a small network gives the CPU's loss and gradients") {
  for (DType dtype : {DType::F64, DType::F32}) {
    Rng rng(15);
    const int64_t batch = 5, classes = 7;
    std::vector<Tensor> host = {random_tensor({4, 2, 3, 3}, dtype, rng, -0.5, 0.5), random_tensor({4}, dtype, rng),
                                random_tensor({classes, 4 * 4 * 4}, dtype, rng, -0.3, 0.3),
                                random_tensor({classes}, dtype, rng)};
    const Tensor x = random_tensor({batch, 2, 9, 9}, dtype, rng);
    std::vector<int32_t> labels(batch);
    for (int32_t& l : labels) l = static_cast<int32_t>(rng.below(classes));
    const Tensor hl = Tensor::from_vector(labels, {batch});
    std::vector<Tensor> device;
    for (Tensor& t : host) {
      device.push_back(on_gpu(t));
      t.set_requires_grad(true);
      device.back().set_requires_grad(true);
    }
    const Tensor hloss = small_net_loss(host, x, hl);
    const Tensor dloss = small_net_loss(device, on_gpu(x), on_gpu(hl));
    CHECK(dloss.device() == dev());
    hloss.backward();
    dloss.backward();
    const double tol = dtype == DType::F64 ? 1e-12 : 2e-5;
    expect_close(dloss, hloss, tol, tol, std::string("loss ") + dtype_name(dtype));
    for (size_t k = 0; k < host.size(); ++k) {
      REQUIRE(device[k].grad().defined());
      CHECK(device[k].grad().device() == dev());
      expect_close(device[k].grad(), host[k].grad(), tol, tol,
                   "gradient of parameter " + std::to_string(k) + " " + dtype_name(dtype));
    }
  }
}
