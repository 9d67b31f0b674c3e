// CPU log-softmax and cross-entropy, row by row with the maximum subtracted for stability.
#include <cmath>

#include "core/cpu_backend.h"

namespace sws {

void CpuBackend::log_softmax(const Tensor& x, Tensor& out) {
  const int64_t rows = x.size(0), cols = x.size(1);
  dispatch_float(x.dtype(), "log_softmax", [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    T* y = out.data<T>();
    parallel_for(rows, x.numel() >= kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T* in = a + r * cols;
        T m = in[0];
        for (int64_t c = 1; c < cols; ++c) m = std::max(m, in[c]);
        double s = 0.0;
        for (int64_t c = 0; c < cols; ++c) s += std::exp(static_cast<double>(in[c] - m));
        const T lse = m + static_cast<T>(std::log(s));
        for (int64_t c = 0; c < cols; ++c) y[r * cols + c] = in[c] - lse;
      }
    });
  });
}

void CpuBackend::log_softmax_backward(const Tensor& grad, const Tensor& y_t, Tensor& grad_x) {
  const int64_t rows = y_t.size(0), cols = y_t.size(1);
  dispatch_float(y_t.dtype(), "log_softmax_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* g = grad.data<T>();
    const T* y = y_t.data<T>();
    T* d = grad_x.data<T>();
    parallel_for(rows, y_t.numel() >= kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        double s = 0.0;
        for (int64_t c = 0; c < cols; ++c) s += g[r * cols + c];
        for (int64_t c = 0; c < cols; ++c)
          d[r * cols + c] = g[r * cols + c] - std::exp(y[r * cols + c]) * static_cast<T>(s);
      }
    });
  });
}

void CpuBackend::cross_entropy_forward(const Tensor& logits, const Tensor& labels, Tensor& loss,
                                       Tensor& probs) {
  const int64_t rows = logits.size(0), cols = logits.size(1);
  const int32_t* lab = labels.data<int32_t>();
  for (int64_t r = 0; r < rows; ++r)
    SWS_CHECK(lab[r] >= 0 && lab[r] < cols, "cross_entropy: label " + std::to_string(lab[r]) +
                                                " at row " + std::to_string(r) + " is outside [0, " +
                                                std::to_string(cols) + ")");
  dispatch_float(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    const T* a = logits.data<T>();
    T* p = probs.data<T>();
    std::vector<double> row_loss(rows);
    parallel_for(rows, logits.numel() >= kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T* in = a + r * cols;
        T m = in[0];
        for (int64_t c = 1; c < cols; ++c) m = std::max(m, in[c]);
        double s = 0.0;
        for (int64_t c = 0; c < cols; ++c) {
          const double e = std::exp(static_cast<double>(in[c] - m));
          p[r * cols + c] = static_cast<T>(e);
          s += e;
        }
        for (int64_t c = 0; c < cols; ++c) p[r * cols + c] = static_cast<T>(p[r * cols + c] / s);
        row_loss[r] = std::log(s) - static_cast<double>(in[lab[r]] - m);
      }
    });
    double total = 0.0;
    for (double l : row_loss) total += l;
    loss.data<T>()[0] = static_cast<T>(total / static_cast<double>(rows));
  });
}

void CpuBackend::cross_entropy_backward(const Tensor& probs, const Tensor& labels, double scale,
                                        Tensor& grad_logits) {
  const int64_t rows = probs.size(0), cols = probs.size(1);
  const int32_t* lab = labels.data<int32_t>();
  dispatch_float(probs.dtype(), "cross_entropy_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* p = probs.data<T>();
    T* d = grad_logits.data<T>();
    const T s = static_cast<T>(scale);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) d[r * cols + c] = s * p[r * cols + c];
      d[r * cols + lab[r]] -= s;
    }
  });
}

}  // namespace sws
