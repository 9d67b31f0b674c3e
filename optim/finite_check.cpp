#include "optim/finite_check.h"

#include <cmath>

#include "core/backend.h"
#include "core/error.h"

namespace sws {

namespace {

// Index of the first non-finite entry, or -1. Reads the buffer directly when it is a contiguous
// host F32 tensor (every step checks every parameter: it must cost far less than the step).
int64_t first_non_finite(const Tensor& t, double& value) {
  if (t.device().is_cpu() && t.dtype() == DType::F32 && t.is_contiguous()) {
    const float* p = t.data<float>();
    const int64_t n = t.numel();
    bool bad = false;
#pragma omp simd reduction(|| : bad)
    for (int64_t i = 0; i < n; ++i) bad = bad || !std::isfinite(p[i]);
    if (!bad) return -1;
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(p[i])) return value = p[i], i;
  }
  if (!t.device().is_cpu()) {
    // One reduction on the device: a NaN or Inf entry makes the double-accumulated sum
    // non-finite (and F32 data cannot overflow it), so only then is the tensor copied to the
    // host to find and name the entry.
    Tensor total = Tensor::empty({}, DType::F64, t.device());
    backend_for(t.device()).sum(t.contiguous(), total);
    if (std::isfinite(total.item())) return -1;
  }
  const std::vector<double> v = t.to_double_vector();
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i])) return value = v[i], static_cast<int64_t>(i);
  return -1;
}

}  // namespace

void check_finite(const NamedTensors& tensors, bool gradients, const std::string& stage, int64_t epoch,
                  int64_t step, const std::string& hint) {
  for (const auto& [name, t] : tensors) {
    const Tensor checked = gradients ? t.grad() : t;
    if (!checked.defined()) continue;
    double value = 0;
    const int64_t at = first_non_finite(checked, value);
    if (at < 0) continue;
    throw Error(stage + " stopped at epoch " + std::to_string(epoch) + ", step " + std::to_string(step) + ": " +
                (gradients ? "the gradient of " : "") + name + " holds " + std::to_string(value) + " (entry " +
                std::to_string(at) + ")" + (hint.empty() ? "" : "; " + hint));
  }
}

}  // namespace sws
