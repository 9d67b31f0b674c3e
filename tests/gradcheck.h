// Gradient checking: autograd's gradients against central finite differences in double
// precision. A non-scalar output is reduced with fixed random weights, so every output
// element's gradient path is exercised. The same check runs on any device: the inputs are kept
// on the host, where the differences are probed, and copied to the device for every evaluation
// (tests/cuda uses it on the GPU).
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "core/rng.h"
#include "core/tensor.h"

namespace sws::testing {

// A random F64 tensor, uniform in [lo, hi), that requires grad.
inline Tensor random_input(const Shape& shape, Rng& rng, double lo = -1.0, double hi = 1.0) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (double& x : v) x = rng.uniform(lo, hi);
  Tensor t = Tensor::from_vector(v, shape);
  t.set_requires_grad(true);
  return t;
}

// The inputs as leaves on `device` (the same tensors when that is where they are).
inline std::vector<Tensor> on_device(const std::vector<Tensor>& inputs, Device device) {
  std::vector<Tensor> out;
  for (const Tensor& t : inputs) {
    Tensor d = t.to(device);
    if (d.device() != t.device()) d.set_requires_grad(t.requires_grad());
    out.push_back(d);
  }
  return out;
}

// Checks d(sum(f(inputs) * R))/d(input) for every input (host F64 tensors) that requires grad
// against central differences, with f evaluated on `device`. Error measure
// |analytic - numeric| / max(1, |numeric|): relative for large values, absolute near zero.
inline void check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                            std::vector<Tensor> inputs, double eps = 1e-6, double tol = 1e-7,
                            Device device = Device::cpu()) {
  for (const Tensor& t : inputs)
    REQUIRE_MESSAGE((t.device().is_cpu() && t.dtype() == DType::F64),
                    "check_gradients probes host F64 inputs");
  Rng rng(1234);
  Tensor probe = f(on_device(inputs, device));
  std::vector<double> weights(static_cast<size_t>(probe.numel()));
  for (double& w : weights) w = rng.uniform(0.5, 1.5);
  const Tensor r = Tensor::from_vector(weights, probe.shape(), device);
  auto objective = [&](const std::vector<Tensor>& in) { return sum(mul(f(on_device(in, device)), r)); };

  for (Tensor& t : inputs) t.set_grad(Tensor());
  std::vector<Tensor> leaves = on_device(inputs, device);
  sum(mul(f(leaves), r)).backward();
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& t = inputs[k];
    if (!t.requires_grad()) continue;
    REQUIRE_MESSAGE(leaves[k].grad().defined(), "input " << k << " received no gradient");
    REQUIRE_MESSAGE(leaves[k].grad().device() == device,
                    "input " << k << "'s gradient is not on " << device.name());
    const std::vector<double> analytic = leaves[k].grad().to_double_vector();
    double* x = t.data<double>();
    double worst = 0.0;
    NoGradGuard no_grad;  // the probes need no graph
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double saved = x[i];
      x[i] = saved + eps;
      const double plus = objective(inputs).item();
      x[i] = saved - eps;
      const double minus = objective(inputs).item();
      x[i] = saved;
      const double numeric = (plus - minus) / (2 * eps);
      const double err = std::fabs(analytic[i] - numeric) / std::max(1.0, std::fabs(numeric));
      worst = std::max(worst, err);
      if (err > tol) {
        FAIL_CHECK("input " << k << " element " << i << ": analytic " << analytic[i] << " vs numeric "
                            << numeric);
        return;
      }
    }
    MESSAGE("input " << k << ": worst gradient error " << worst);
  }
}

// The same with the default step and tolerance.
inline void check_gradients(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                            std::vector<Tensor> inputs, Device device) {
  check_gradients(f, std::move(inputs), 1e-6, 1e-7, device);
}

}  // namespace sws::testing
