// CUDA backend against the CPU backend: memory and copies, the strided gather, elementwise ops,
// reductions and GEMM, in F32 and F64 on several shapes (odd sizes included).
#include "tests/cuda/cuda_test_util.h"

using namespace sws;
using namespace sws::cudatest;

namespace {

const std::vector<Shape> kShapes = {{1}, {7}, {33, 17}, {3, 5, 7, 11}, {4099}, {70001}};

}  // namespace

TEST_CASE("cuda: copies host -> device -> host and device -> device are exact, every dtype") {
  Rng rng(1);
  for (DType dtype : {DType::F32, DType::F64, DType::I32, DType::I64, DType::U8}) {
    const Tensor host = random_integers({3, 257}, dtype, rng, 0, 200);
    const Tensor device = on_gpu(host);
    CHECK(device.device() == dev());
    expect_same_bits(device.to(Device::cpu()), host, std::string("round trip ") + dtype_name(dtype));
    expect_same_bits(device.clone(), host, std::string("device clone ") + dtype_name(dtype));
  }
  const Tensor empty = on_gpu(Tensor::zeros({0, 4}));
  CHECK(empty.to(Device::cpu()).numel() == 0);
}

TEST_CASE("cuda: make_contiguous gathers transposed, stepped and offset views exactly") {
  Rng rng(2);
  for (DType dtype : {DType::F32, DType::F64, DType::I32, DType::U8}) {
    const Tensor host = random_integers({5, 6, 7, 3}, dtype, rng, 0, 250);
    const Tensor device = on_gpu(host);
    const std::string name = dtype_name(dtype);
    expect_same_bits(transposed(device, 0, 3).contiguous(), transposed(host, 0, 3).contiguous(), "transpose " + name);
    expect_same_bits(transposed(device, 1, 2).contiguous(), transposed(host, 1, 2).contiguous(), "transpose 1,2 " + name);
    expect_same_bits(strided(device, 2, 1, 3).contiguous(), strided(host, 2, 1, 3).contiguous(), "stepped " + name);
    expect_same_bits(transposed(device.rows(1, 3), 0, 1).contiguous(), transposed(host.rows(1, 3), 0, 1).contiguous(),
                     "offset " + name);
  }
  // Eight dimensions, the most the kernel supports.
  const Tensor host = random_tensor({2, 3, 2, 3, 2, 3, 2, 3}, DType::F32, rng);
  expect_same_bits(transposed(on_gpu(host), 0, 7).contiguous(), transposed(host, 0, 7).contiguous(), "rank 8");
}

TEST_CASE("cuda: fill and cast match the CPU exactly for every pair of dtypes") {
  Rng rng(3);
  const std::vector<DType> all = {DType::F32, DType::F64, DType::I32, DType::I64, DType::U8};
  for (DType dtype : all) {
    Tensor d = Tensor::empty({1001}, dtype, dev()), h = Tensor::empty({1001}, dtype);
    d.fill_(7.75);
    h.fill_(7.75);
    expect_same_bits(d, h, std::string("fill ") + dtype_name(dtype));
  }
  for (DType from : all) {
    // Values representable in every target (U8 included), with fractions for the float sources.
    Tensor host = random_tensor({513}, DType::F64, rng, 0.0, 250.0).to(from);
    const Tensor device = on_gpu(host);
    for (DType to : all)
      expect_same_bits(device.to(to), host.to(to), std::string("cast ") + dtype_name(from) + " -> " + dtype_name(to));
  }
  // Negative values and float rounding between F32 and F64 and I32.
  const Tensor signed_host = random_tensor({999}, DType::F64, rng, -1e6, 1e6);
  for (DType to : {DType::F32, DType::I32, DType::I64})
    expect_same_bits(on_gpu(signed_host).to(to), signed_host.to(to), std::string("cast signed -> ") + dtype_name(to));
}

TEST_CASE("cuda: unary ops match the CPU within libm rounding") {
  Rng rng(4);
  for (DType dtype : {DType::F32, DType::F64})
    for (const Shape& shape : kShapes)
      for (UnaryOp op : {UnaryOp::Neg, UnaryOp::Exp, UnaryOp::Log, UnaryOp::Relu, UnaryOp::Sqrt}) {
        const bool positive = op == UnaryOp::Log || op == UnaryOp::Sqrt;
        const Tensor x = random_tensor(shape, dtype, rng, positive ? 1e-3 : -5.0, 5.0);
        Tensor hc = Tensor::empty(shape, dtype), gc = Tensor::empty(shape, dtype, dev());
        cpu().unary(op, x, hc);
        gpu().unary(op, on_gpu(x), gc);
        const bool exact = op == UnaryOp::Neg || op == UnaryOp::Relu || op == UnaryOp::Sqrt;
        expect_close(gc, hc, exact ? 0.0 : libm_rtol(dtype), 0.0,
                     "unary " + std::to_string(static_cast<int>(op)) + " " + dtype_name(dtype) + shape_str(shape));
      }
}

TEST_CASE("cuda: binary ops, affine, axpy and relu_backward match the CPU") {
  Rng rng(5);
  for (DType dtype : {DType::F32, DType::F64})
    for (const Shape& shape : kShapes) {
      const std::string tag = std::string(dtype_name(dtype)) + shape_str(shape);
      const Tensor a = random_tensor(shape, dtype, rng), b = random_tensor(shape, dtype, rng, 0.5, 2.0);
      const Tensor ga = on_gpu(a), gb = on_gpu(b);
      for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div}) {
        Tensor hc = Tensor::empty(shape, dtype), gc = Tensor::empty(shape, dtype, dev());
        cpu().binary(op, a, b, hc);
        gpu().binary(op, ga, gb, gc);
        expect_same_bits(gc, hc, "binary " + std::to_string(static_cast<int>(op)) + " " + tag);
      }
      // affine and axpy are a multiply-add: the CPU or the GPU may fuse it (one rounding).
      const double fused_rtol = dtype == DType::F32 ? 2e-7 : 4e-16;
      Tensor hc = Tensor::empty(shape, dtype), gc = Tensor::empty(shape, dtype, dev());
      cpu().affine(a, 0.37, -1.25, hc);
      gpu().affine(ga, 0.37, -1.25, gc);
      expect_close(gc, hc, fused_rtol, 1e-7, "affine " + tag);
      Tensor hy = b.clone(), gy = on_gpu(b);
      cpu().axpy(-0.61, a, hy);
      gpu().axpy(-0.61, ga, gy);
      expect_close(gy, hy, fused_rtol, 1e-7, "axpy " + tag);
      cpu().relu_backward(b, a, hc);
      gpu().relu_backward(gb, ga, gc);
      expect_same_bits(gc, hc, "relu_backward " + tag);
    }
  // In place (out aliases x), as autograd uses affine.
  Tensor h = random_tensor({1000}, DType::F32, rng), g = on_gpu(h);
  cpu().affine(h, 2.0, 0.0, h);
  gpu().affine(g, 2.0, 0.0, g);
  expect_same_bits(g, h, "affine in place");
}

TEST_CASE("cuda: sum is accurate, and deterministic to the bit") {
  Rng rng(6);
  for (DType dtype : {DType::F32, DType::F64})
    for (int64_t n : {0, 1, 255, 256, 257, 4099, 1000003, 3000017}) {
      const Tensor x = random_tensor({n}, dtype, rng, -1.0, 1.5);
      Tensor hc = Tensor::empty({}, dtype), g1 = Tensor::empty({}, dtype, dev()), g2 = Tensor::empty({}, dtype, dev());
      const Tensor gx = on_gpu(x);
      cpu().sum(x, hc);
      gpu().sum(gx, g1);
      gpu().sum(gx, g2);
      // Both accumulate in double: they differ by double rounding only (then rounded to T).
      expect_close(g1, hc, dtype == DType::F32 ? 1.2e-7 : 1e-13, 1e-12, "sum " + std::to_string(n));
      expect_same_bits(g1, g2, "sum twice " + std::to_string(n));
    }
}

TEST_CASE("cuda: sum_per_channel and add_per_channel match the CPU") {
  Rng rng(7);
  for (DType dtype : {DType::F32, DType::F64})
    for (const Shape& shape : std::vector<Shape>{{5, 3}, {64, 300}, {3, 7, 5, 9}, {17, 20, 24, 24}, {2, 1}}) {
      const std::string tag = std::string(dtype_name(dtype)) + shape_str(shape);
      const Tensor x = random_tensor(shape, dtype, rng);
      Tensor hc = Tensor::empty({shape[1]}, dtype), gc = Tensor::empty({shape[1]}, dtype, dev());
      cpu().sum_per_channel(x, hc);
      gpu().sum_per_channel(on_gpu(x), gc);
      expect_close(gc, hc, dtype == DType::F32 ? 1e-5 : 1e-13, 1e-5, "sum_per_channel " + tag);
      const Tensor bias = random_tensor({shape[1]}, dtype, rng);
      Tensor hx = x.clone(), gx = on_gpu(x);
      cpu().add_per_channel(hx, bias);
      gpu().add_per_channel(gx, on_gpu(bias));
      expect_same_bits(gx, hx, "add_per_channel " + tag);
    }
}

TEST_CASE("cuda: gemm matches the CPU for every transpose, alpha and beta") {
  Rng rng(8);
  struct Dims { int64_t m, n, k; };
  for (DType dtype : {DType::F32, DType::F64})
    for (Dims d : {Dims{1, 1, 1}, Dims{37, 19, 53}, Dims{64, 300, 784}, Dims{5, 7, 0}, Dims{256, 10, 100}})
      for (bool ta : {false, true})
        for (bool tb : {false, true})
          for (double beta : {0.0, 0.3}) {
            const Tensor a = random_tensor(ta ? Shape{d.k, d.m} : Shape{d.m, d.k}, dtype, rng);
            const Tensor b = random_tensor(tb ? Shape{d.n, d.k} : Shape{d.k, d.n}, dtype, rng);
            const Tensor c = random_tensor({d.m, d.n}, dtype, rng);
            Tensor hc = c.clone(), gc = on_gpu(c);
            cpu().gemm(ta, tb, 0.7, a, b, beta, hc);
            gpu().gemm(ta, tb, 0.7, on_gpu(a), on_gpu(b), beta, gc);
            // Summation orders differ: error ~ eps * sqrt(k) * |a||b|.
            const double scale = std::sqrt(static_cast<double>(std::max<int64_t>(d.k, 1)));
            expect_close(gc, hc, 0.0, (dtype == DType::F32 ? 2e-6 : 1e-14) * scale * 4,
                         std::string("gemm ") + dtype_name(dtype) + " m" + std::to_string(d.m) + " n" +
                             std::to_string(d.n) + " k" + std::to_string(d.k) + (ta ? " ta" : "") + (tb ? " tb" : "") +
                             " beta " + std::to_string(beta));
          }
}

TEST_CASE("cuda: ops reject CPU tensors and mismatched operands with an sws::Error") {
  const Tensor h = Tensor::zeros({4});
  Tensor g = Tensor::zeros({4}, DType::F32, dev());
  CHECK_THROWS_AS(gpu().unary(UnaryOp::Neg, h, g), Error);
  const Tensor g5 = Tensor::zeros({5}, DType::F32, dev());
  CHECK_THROWS_AS(gpu().binary(BinaryOp::Add, g, g5, g), Error);
  const Tensor gi = Tensor::zeros({4}, DType::I32, dev());
  Tensor gi_out = Tensor::zeros({4}, DType::I32, dev());
  CHECK_THROWS_AS(gpu().unary(UnaryOp::Exp, gi, gi_out), Error);
}
