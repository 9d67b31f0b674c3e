// Kernel values against direct reference loops and closed forms.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/backend.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/threads.h"

using namespace sws;

namespace {

Tensor random_f32(const Shape& shape, Rng& rng) {
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  for (float& x : v) x = static_cast<float>(rng.uniform(-1, 1));
  return Tensor::from_vector(v, shape);
}

// Direct convolution, the definition.
std::vector<double> reference_conv(const Tensor& x, const Tensor& w, const Tensor& b, int64_t s, int64_t p) {
  const auto X = x.to_double_vector(), W = w.to_double_vector(), B = b.to_double_vector();
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), wd = x.size(3);
  const int64_t o = w.size(0), k = w.size(2);
  const int64_t oh = (h + 2 * p - k) / s + 1, ow = (wd + 2 * p - k) / s + 1;
  std::vector<double> y(n * o * oh * ow);
  for (int64_t in = 0; in < n; ++in)
    for (int64_t io = 0; io < o; ++io)
      for (int64_t yy = 0; yy < oh; ++yy)
        for (int64_t xx = 0; xx < ow; ++xx) {
          double acc = B[io];
          for (int64_t ic = 0; ic < c; ++ic)
            for (int64_t ky = 0; ky < k; ++ky)
              for (int64_t kx = 0; kx < k; ++kx) {
                const int64_t iy = yy * s - p + ky, ix = xx * s - p + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                acc += X[((in * c + ic) * h + iy) * wd + ix] * W[((io * c + ic) * k + ky) * k + kx];
              }
          y[((in * o + io) * oh + yy) * ow + xx] = acc;
        }
  return y;
}

}  // namespace

TEST_CASE("conv2d forward matches the direct definition, 1 and 2 threads") {
  Rng rng(11);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Tensor x = random_f32({5, 3, 11, 9}, rng), w = random_f32({4, 3, 3, 3}, rng), b = random_f32({4}, rng);
    for (auto [s, p] : {std::pair<int64_t, int64_t>{1, 0}, {2, 1}, {3, 2}, {1, 2}}) {
      const auto expected = reference_conv(x, w, b, s, p);
      const auto got = conv2d(x, w, b, s, p).to_double_vector();
      REQUIRE(got.size() == expected.size());
      for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-5));
    }
  }
  set_num_threads(2);
}

TEST_CASE("conv2d batches several small images per GEMM and still matches the definition") {
  // 37 images with 4x4 output planes: many images share each GEMM, with a ragged last group.
  Rng rng(14);
  Tensor x = random_f32({37, 2, 6, 6}, rng), w = random_f32({3, 2, 3, 3}, rng), b = random_f32({3}, rng);
  const auto expected = reference_conv(x, w, b, 1, 0);
  const auto got = conv2d(x, w, b, 1, 0).to_double_vector();
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-5));
}

TEST_CASE("max_pool2d picks window maxima and the first on ties") {
  Tensor x = Tensor::from_vector(std::vector<float>{1, 5, 2, 2,  //
                                                    3, 4, 2, 2,  //
                                                    -1, -2, 7, 0,  //
                                                    -3, -4, 0, 7},
                                 {1, 1, 4, 4});
  x.set_requires_grad(true);
  Tensor y = max_pool2d(x, 2, 2);
  CHECK(y.to_double_vector() == std::vector<double>{5, 2, -1, 7});
  sum(y).backward();
  // Ties (the 2s, the 7s) send the gradient to the first maximum in row-major order.
  CHECK(x.grad().to_double_vector() ==
        std::vector<double>{0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0});
}

TEST_CASE("cross_entropy and log_softmax against closed forms") {
  // Logits (0, log 3): softmax = (1/4, 3/4). Loss for label 1 is -log(3/4), for label 0 -log(1/4).
  Tensor logits = Tensor::from_vector(std::vector<double>{0.0, std::log(3.0), 0.0, std::log(3.0)}, {2, 2});
  Tensor labels = Tensor::from_vector(std::vector<int32_t>{1, 0}, {2});
  const double expected = 0.5 * (-std::log(0.75) - std::log(0.25));
  CHECK(cross_entropy(logits, labels).item() == doctest::Approx(expected).epsilon(1e-14));
  const auto ls = log_softmax(logits).to_double_vector();
  CHECK(ls[0] == doctest::Approx(std::log(0.25)).epsilon(1e-14));
  CHECK(ls[1] == doctest::Approx(std::log(0.75)).epsilon(1e-14));
  // Huge logits must not overflow (the maximum is subtracted first).
  Tensor big = Tensor::from_vector(std::vector<float>{1000.f, 0.f}, {1, 2});
  CHECK(cross_entropy(big, Tensor::from_vector(std::vector<int32_t>{1}, {1})).item() == doctest::Approx(1000.0));
  // A label outside [0, C) is an error, not a read out of bounds.
  CHECK_THROWS_WITH(cross_entropy(big, Tensor::from_vector(std::vector<int32_t>{2}, {1})),
                    doctest::Contains("outside [0, 2)"));
}

TEST_CASE("float and double kernels agree on a linear layer") {
  Rng rng(12);
  Tensor x = random_f32({7, 13}, rng), w = random_f32({5, 13}, rng), b = random_f32({5}, rng);
  const auto f = linear(x, w, b).to_double_vector();
  const auto d = linear(x.to(DType::F64), w.to(DType::F64), b.to(DType::F64)).to_double_vector();
  for (size_t i = 0; i < f.size(); ++i) CHECK(f[i] == doctest::Approx(d[i]).epsilon(1e-5));
}

TEST_CASE("sum is independent of the thread count") {
  Rng rng(13);
  Tensor x = random_f32({300001}, rng);
  set_num_threads(1);
  const double one = sum(x).item();
  set_num_threads(2);
  const double two = sum(x).item();
  CHECK(one == two);
}

TEST_CASE("conv2d refuses an empty kernel") {
  Rng rng(21);
  Tensor x = random_f32({1, 1, 4, 4}, rng);
  Tensor w = Tensor::zeros({2, 1, 0, 3});
  CHECK_THROWS_WITH_AS(conv2d(x, w, Tensor(), 1, 0), doctest::Contains("kernel"), Error);
}

TEST_CASE("gemm with an empty inner dimension writes beta * C, and zeros without reading C when beta = 0") {
  Backend& cpu = backend_for(Device::cpu());
  Tensor a = Tensor::zeros({2, 0}), b = Tensor::zeros({0, 3});
  Tensor c = Tensor::full({2, 3}, std::nan(""));
  cpu.gemm(false, false, 1.0, a, b, 0.0, c);
  for (double v : c.to_double_vector()) CHECK(v == 0.0);
  Tensor d = Tensor::full({2, 3}, 4.0);
  cpu.gemm(false, false, 1.0, a, b, 0.5, d);
  for (double v : d.to_double_vector()) CHECK(v == 2.0);
  Tensor wrong = Tensor::zeros({3, 3});
  CHECK_THROWS_AS(cpu.gemm(false, false, 1.0, a, b, 0.0, wrong), Error);
}
