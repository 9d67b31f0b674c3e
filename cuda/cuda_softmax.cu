// CUDA log-softmax and cross-entropy: one warp per row, the row's maximum subtracted before
// exponentiating and the exponentials summed in double, as in core/cpu_softmax.cpp. Warp sums
// use a fixed shuffle pattern and the batch loss is summed in a fixed order: deterministic.
#include <climits>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_kernels.cuh"

namespace sws::cuda {

namespace {

// Rows are handed to warps: warp w of block b takes rows b*kWarps + w, then every
// gridDim.x*kWarps rows further.
unsigned blocks_for_rows(int64_t rows) {
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>((rows + kWarps - 1) / kWarps, 65535)));
}

#define SWS_WARP_ROW_LOOP(row, rows)                                                                      \
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + (threadIdx.x >> 5); row < (rows); \
       row += static_cast<int64_t>(gridDim.x) * kWarps)

// The row's maximum as the CPU computes it (starting from the first entry).
template <typename T>
__device__ __forceinline__ T row_max(const T* in, int64_t cols, int lane) {
  T m = in[0];
  for (int64_t c = lane; c < cols; c += 32) m = in[c] > m ? in[c] : m;
  return warp_max(m);
}

// sum_c exp(in[c] - m) in double.
template <typename T>
__device__ __forceinline__ double row_exp_sum(const T* in, int64_t cols, T m, int lane) {
  double s = 0.0;
  for (int64_t c = lane; c < cols; c += 32) s += ::exp(static_cast<double>(in[c] - m));
  return warp_sum(s);
}

template <typename T>
__global__ void log_softmax_kernel(const T* x, T* y, int64_t rows, int64_t cols) {
  const int lane = threadIdx.x & 31;
  SWS_WARP_ROW_LOOP(row, rows) {
    const T* in = x + row * cols;
    const T m = row_max(in, cols, lane);
    const double s = row_exp_sum(in, cols, m, lane);
    const T lse = m + static_cast<T>(::log(s));
    for (int64_t c = lane; c < cols; c += 32) y[row * cols + c] = in[c] - lse;
  }
}

template <typename T>
__global__ void log_softmax_backward_kernel(const T* g, const T* y, T* d, int64_t rows, int64_t cols) {
  const int lane = threadIdx.x & 31;
  SWS_WARP_ROW_LOOP(row, rows) {
    const int64_t base = row * cols;
    double s = 0.0;
    for (int64_t c = lane; c < cols; c += 32) s += static_cast<double>(g[base + c]);
    const T sum = static_cast<T>(warp_sum(s));
    for (int64_t c = lane; c < cols; c += 32) d[base + c] = g[base + c] - mul_rn(exp_of(y[base + c]), sum);
  }
}

// *first_bad = the smallest row whose label is outside [0, cols) (atomicMin on an int: the
// result does not depend on the order).
__global__ void check_labels_kernel(const int32_t* labels, int64_t rows, int64_t cols, int32_t* first_bad) {
  SWS_GRID_STRIDE_LOOP(r, rows) {
    const int32_t label = labels[r];
    if (label < 0 || label >= cols) atomicMin(first_bad, static_cast<int32_t>(r));
  }
}

// probs = softmax(logits) row by row; row_loss[r] = log(sum) - (logits[r][label] - max).
template <typename T>
__global__ void cross_entropy_kernel(const T* logits, const int32_t* labels, T* probs, double* row_loss,
                                     int64_t rows, int64_t cols) {
  const int lane = threadIdx.x & 31;
  SWS_WARP_ROW_LOOP(row, rows) {
    const T* in = logits + row * cols;
    T* p = probs + row * cols;
    const T m = row_max(in, cols, lane);
    double s = 0.0;
    for (int64_t c = lane; c < cols; c += 32) {
      const double e = ::exp(static_cast<double>(in[c] - m));
      p[c] = static_cast<T>(e);
      s += e;
    }
    s = warp_sum(s);
    // As on the CPU: the stored (rounded) exponential divided by the double sum.
    for (int64_t c = lane; c < cols; c += 32) p[c] = static_cast<T>(static_cast<double>(p[c]) / s);
    if (lane == 0) row_loss[row] = ::log(s) - static_cast<double>(in[labels[row]] - m);
  }
}

template <typename T>
__global__ void cross_entropy_backward_kernel(const T* probs, const int32_t* labels, T scale, T* d, int64_t rows,
                                              int64_t cols) {
  SWS_GRID_STRIDE_LOOP(i, rows * cols) {
    const int64_t r = i / cols, c = i - r * cols;
    T v = mul_rn(scale, probs[i]);
    if (c == labels[r]) v -= scale;
    d[i] = v;
  }
}

void check_rows(const char* op, const Tensor& x, const Tensor& y) {
  check_operands(op, {&x, &y});
  SWS_CHECK(x.dim() == 2 && x.shape() == y.shape() && x.dtype() == y.dtype(),
            std::string(op) + ": " + describe(x) + " and " + describe(y) + " (same [B, C] shape and dtype)");
}

}  // namespace

void CudaBackend::log_softmax(const Tensor& x, Tensor& out) {
  check_rows("log_softmax", x, out);
  const int64_t rows = x.size(0), cols = x.size(1);
  if (rows == 0 || cols == 0) return;
  SWS_DISPATCH_FLOAT(x.dtype(), "log_softmax", {
    log_softmax_kernel<<<blocks_for_rows(rows), kThreads>>>(x.data<scalar_t>(), out.data<scalar_t>(), rows, cols);
    SWS_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::log_softmax_backward(const Tensor& grad, const Tensor& y, Tensor& grad_x) {
  check_rows("log_softmax_backward", grad, y);
  check_rows("log_softmax_backward", y, grad_x);
  const int64_t rows = y.size(0), cols = y.size(1);
  if (rows == 0 || cols == 0) return;
  SWS_DISPATCH_FLOAT(y.dtype(), "log_softmax_backward", {
    log_softmax_backward_kernel<<<blocks_for_rows(rows), kThreads>>>(grad.data<scalar_t>(), y.data<scalar_t>(),
                                                                     grad_x.data<scalar_t>(), rows, cols);
    SWS_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::cross_entropy_forward(const Tensor& logits, const Tensor& labels, Tensor& loss, Tensor& probs) {
  check_rows("cross_entropy", logits, probs);
  check_operands("cross_entropy", {&labels, &loss});
  const int64_t rows = logits.size(0), cols = logits.size(1);
  SWS_CHECK(labels.dtype() == DType::I32 && labels.numel() == rows && loss.numel() == 1 &&
                loss.dtype() == logits.dtype(),
            "cross_entropy: labels " + describe(labels) + " and loss " + describe(loss) + " for logits " +
                describe(logits));
  SWS_CHECK(rows < INT32_MAX, "cross_entropy: too many rows in " + describe(logits));
  // Labels first, as the CPU does: a device-side flag holds the first bad row, read back here.
  if (rows > 0) {
    Tensor first_bad = Tensor::full({}, static_cast<double>(INT32_MAX), DType::I32, device());
    check_labels_kernel<<<blocks_for(rows), kThreads>>>(labels.data<int32_t>(), rows, cols,
                                                        first_bad.data<int32_t>());
    SWS_CUDA_CHECK_LAUNCH();
    int32_t bad_row = INT32_MAX;
    copy_to_host(&bad_row, first_bad.raw_data(), sizeof bad_row);
    if (bad_row != INT32_MAX) {
      int32_t label = 0;
      copy_to_host(&label, labels.data<int32_t>() + bad_row, sizeof label);
      throw Error("cross_entropy: label " + std::to_string(label) + " at row " + std::to_string(bad_row) +
                  " is outside [0, " + std::to_string(cols) + ")");
    }
  }
  Tensor row_loss = Tensor::empty({std::max<int64_t>(rows, 1)}, DType::F64, device());
  SWS_DISPATCH_FLOAT(logits.dtype(), "cross_entropy", {
    if (rows > 0 && cols > 0) {
      cross_entropy_kernel<<<blocks_for_rows(rows), kThreads>>>(logits.data<scalar_t>(), labels.data<int32_t>(),
                                                                probs.data<scalar_t>(), row_loss.data<double>(),
                                                                rows, cols);
      SWS_CUDA_CHECK_LAUNCH();
    }
    // The mean over rows: the row losses added in a fixed order, then divided (0/0 = NaN for an
    // empty batch, as on the CPU).
    finish_sum_kernel<<<1, kThreads>>>(row_loss.data<double>(), rows, static_cast<double>(rows),
                                       loss.data<scalar_t>());
    SWS_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::cross_entropy_backward(const Tensor& probs, const Tensor& labels, double scale,
                                         Tensor& grad_logits) {
  check_rows("cross_entropy_backward", probs, grad_logits);
  check_operands("cross_entropy_backward", {&labels});
  const int64_t rows = probs.size(0), cols = probs.size(1);
  SWS_CHECK(labels.dtype() == DType::I32 && labels.numel() == rows,
            "cross_entropy_backward: labels " + describe(labels) + " for " + describe(probs));
  if (rows == 0 || cols == 0) return;
  SWS_DISPATCH_FLOAT(probs.dtype(), "cross_entropy_backward", {
    cross_entropy_backward_kernel<<<blocks_for(rows * cols), kThreads>>>(
        probs.data<scalar_t>(), labels.data<int32_t>(), static_cast<scalar_t>(scale), grad_logits.data<scalar_t>(),
        rows, cols);
    SWS_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace sws::cuda
