// Helpers of the CUDA tests: random host tensors, strided views, and comparisons of a GPU result
// with the CPU backend's (the reference), reporting the worst element.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/tensor.h"

namespace sws::cudatest {

inline Backend& cpu() { return backend_for(Device::cpu()); }
inline Backend& gpu() { return backend_for(Device::cuda()); }
inline Device dev() { return Device::cuda(); }

// A CPU tensor of the given float dtype, uniform in [lo, hi).
inline Tensor random_tensor(const Shape& shape, DType dtype, Rng& rng, double lo = -1.0, double hi = 1.0) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (double& x : v) x = rng.uniform(lo, hi);
  return Tensor::from_vector(v, shape).to(dtype);
}

// A CPU tensor of small integers in [lo, hi] (many ties), as the given dtype.
inline Tensor random_integers(const Shape& shape, DType dtype, Rng& rng, int lo, int hi) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (double& x : v) x = lo + static_cast<double>(rng.below(static_cast<uint64_t>(hi - lo + 1)));
  return Tensor::from_vector(v, shape).to(dtype);
}

// A view of t with dimensions d0 and d1 swapped (non-contiguous), sharing storage.
inline Tensor transposed(const Tensor& t, size_t d0, size_t d1) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl()->storage;
  impl->shape = t.shape();
  impl->strides = t.strides();
  impl->offset = t.impl()->offset;
  impl->dtype = t.dtype();
  std::swap(impl->shape[d0], impl->shape[d1]);
  std::swap(impl->strides[d0], impl->strides[d1]);
  return Tensor(impl);
}

// A view of every `step`-th element along dimension d, starting at `start` (non-contiguous).
inline Tensor strided(const Tensor& t, size_t d, int64_t start, int64_t step) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl()->storage;
  impl->shape = t.shape();
  impl->strides = t.strides();
  impl->offset = t.impl()->offset + start * t.strides()[d];
  impl->dtype = t.dtype();
  impl->shape[d] = (t.shape()[d] - start + step - 1) / step;
  impl->strides[d] *= step;
  return Tensor(impl);
}

// A device copy of a host tensor.
inline Tensor on_gpu(const Tensor& t) { return t.to(dev()); }

// Checks |gpu - cpu| <= atol + rtol |cpu| elementwise (NaNs must match), reporting the worst.
inline void expect_close(const Tensor& gpu_result, const Tensor& cpu_result, double rtol, double atol,
                         const std::string& what) {
  REQUIRE_MESSAGE(gpu_result.shape() == cpu_result.shape(), what << ": shapes differ");
  const std::vector<double> a = gpu_result.to_double_vector(), b = cpu_result.to_double_vector();
  double worst = 0.0;
  size_t worst_i = 0;
  size_t bad = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) {
      if (std::isnan(a[i]) != std::isnan(b[i])) ++bad, worst_i = i;
      continue;
    }
    const double excess = std::fabs(a[i] - b[i]) - (atol + rtol * std::fabs(b[i]));
    if (excess > 0) {
      ++bad;
      if (excess > worst) worst = excess, worst_i = i;
    }
  }
  CHECK_MESSAGE(bad == 0, what << ": " << bad << " of " << a.size() << " elements differ; worst at " << worst_i
                               << ": gpu " << (a.empty() ? 0.0 : a[worst_i]) << " vs cpu "
                               << (b.empty() ? 0.0 : b[worst_i]));
}

// Checks that two tensors hold the same bytes (same dtype and shape).
inline void expect_same_bits(const Tensor& x, const Tensor& y, const std::string& what) {
  REQUIRE_MESSAGE(x.shape() == y.shape(), what << ": shapes differ");
  REQUIRE_MESSAGE(x.dtype() == y.dtype(), what << ": dtypes differ");
  const Tensor hx = x.to(Device::cpu()).contiguous(), hy = y.to(Device::cpu()).contiguous();
  const size_t bytes = static_cast<size_t>(hx.numel()) * dtype_size(hx.dtype());
  CHECK_MESSAGE(std::memcmp(hx.raw_data(), hy.raw_data(), bytes) == 0, what << ": bytes differ");
}

// Relative tolerance of an elementwise result that went through one libm call.
inline double libm_rtol(DType dtype) { return dtype == DType::F32 ? 4e-7 : 4e-16; }

}  // namespace sws::cudatest
