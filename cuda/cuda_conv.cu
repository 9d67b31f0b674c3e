// CUDA convolution through cuDNN and max-pooling with own kernels.
//
// Convolution: NCHW input, OIHW weights, cross-correlation (what deep-learning "convolution"
// means, and what the CPU's im2col computes), padding and stride from Conv2dGeometry. For each
// (geometry, dtype, direction) the algorithm is chosen once with cuDNN's heuristics
// (cudnnGetConvolution*Algorithm_v7), preferring deterministic FMA algorithms (no TF32, so that
// F32 results stay within float rounding of the CPU's), and cached; the workspace comes from the
// caching allocator, so a steady training loop allocates nothing.
//
// Max-pooling does not use cuDNN: the interface returns the argmax (the flat index within the
// input plane, with the CPU's first-maximum tie rule and NaN rule) for the backward pass, and
// cuDNN's pooling neither returns it nor promises which of equal maxima receives the gradient.
#include <climits>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_kernels.cuh"

namespace sws::cuda {

namespace {

// An owning wrapper of a cuDNN descriptor (destroyed without a check: destructors never throw).
template <typename Handle, cudnnStatus_t (*Create)(Handle*), cudnnStatus_t (*Destroy)(Handle)>
struct Descriptor {
  Handle d = nullptr;
  Descriptor() { SWS_CUDNN_CHECK(Create(&d)); }
  ~Descriptor() { Destroy(d); }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
};
using TensorDescriptor =
    Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDescriptor =
    Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor = Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
                                         cudnnDestroyConvolutionDescriptor>;

// The math every convolution of a dtype runs with. F32: FMA only (CUDNN_DEFAULT_MATH would allow
// TF32 tensor cores on A100/H100, whose 10-bit mantissas are far from the CPU's float results).
// F64 has no reduced mode.
cudnnMathType_t conv_math(DType dtype) { return dtype == DType::F32 ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH; }

int as_int(int64_t v, const char* what) {
  SWS_CHECK(v >= 0 && v <= INT_MAX, std::string("conv2d: ") + what + " = " + std::to_string(v) + " is out of range for cuDNN");
  return static_cast<int>(v);
}

// The descriptors of one convolution: x [N, C, H, W], w [O, C, KH, KW], y [N, O, OH, OW].
struct ConvDescriptors {
  TensorDescriptor x, y;
  FilterDescriptor w;
  ConvolutionDescriptor conv;

  ConvDescriptors(const Conv2dGeometry& g, DType dtype) {
    const cudnnDataType_t type = dtype == DType::F32 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
    const int n = as_int(g.batch, "batch"), c = as_int(g.in_channels, "in_channels");
    const int h = as_int(g.in_h, "in_h"), wd = as_int(g.in_w, "in_w");
    const int o = as_int(g.out_channels, "out_channels"), kh = as_int(g.kernel_h, "kernel_h");
    const int kw = as_int(g.kernel_w, "kernel_w"), stride = as_int(g.stride, "stride");
    const int pad = as_int(g.padding, "padding");
    const int oh = as_int(g.out_h(), "out_h"), ow = as_int(g.out_w(), "out_w");
    SWS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x.d, CUDNN_TENSOR_NCHW, type, n, c, h, wd));
    SWS_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w.d, type, CUDNN_TENSOR_NCHW, o, c, kh, kw));
    // Compute type = data type: float in float, double in double, as on the CPU.
    SWS_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(conv.d, pad, pad, stride, stride, 1, 1,
                                                    CUDNN_CROSS_CORRELATION, type));
    SWS_CUDNN_CHECK(cudnnSetConvolutionMathType(conv.d, conv_math(dtype)));
    SWS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y.d, CUDNN_TENSOR_NCHW, type, n, o, oh, ow));
    int yn = 0, yc = 0, yh = 0, yw = 0;
    SWS_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(conv.d, x.d, w.d, &yn, &yc, &yh, &yw));
    SWS_CHECK(yn == n && yc == o && yh == oh && yw == ow,
              "conv2d: cuDNN's output shape [" + std::to_string(yn) + ", " + std::to_string(yc) + ", " +
                  std::to_string(yh) + ", " + std::to_string(yw) + "] differs from the geometry's");
  }
};

// The scaling factors alpha = 1, beta = 0 in the data's type (cuDNN reads them as such).
struct Scaling {
  float one_f = 1.0f, zero_f = 0.0f;
  double one_d = 1.0, zero_d = 0.0;
  bool is_double;
  explicit Scaling(DType dtype) : is_double(dtype == DType::F64) {}
  const void* one() const { return is_double ? static_cast<const void*>(&one_d) : &one_f; }
  const void* zero() const { return is_double ? static_cast<const void*>(&zero_d) : &zero_f; }
};

// The most workspace one convolution call may take: FFT-style candidates can ask for gigabytes.
constexpr size_t kMaxConvWorkspace = size_t{256} << 20;

// The best of cuDNN's ranked candidates (searched with conv_math(dtype) on the descriptor): the
// first that ran (status success), is deterministic (the same inputs give the same bits) and
// needs at most kMaxConvWorkspace, preferring one reported with conv_math(dtype) itself. The
// chosen algorithm always runs with conv_math(dtype), so F32 never gets TF32 tensor cores.
template <typename Perf>
int pick_candidate(const Perf* perf, int count, DType dtype, const Conv2dGeometry& g, const char* direction) {
  auto usable = [&](int i) {
    return perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].determinism == CUDNN_DETERMINISTIC &&
           perf[i].memory <= kMaxConvWorkspace;
  };
  for (int i = 0; i < count; ++i)
    if (usable(i) && perf[i].mathType == conv_math(dtype)) return i;
  for (int i = 0; i < count; ++i)
    if (usable(i)) return i;
  throw Error(std::string("conv2d: cuDNN offers no deterministic ") + direction + " algorithm within " +
              std::to_string(kMaxConvWorkspace >> 20) + " MiB of workspace for input [" + std::to_string(g.batch) +
              ", " + std::to_string(g.in_channels) + ", " + std::to_string(g.in_h) + ", " + std::to_string(g.in_w) +
              "], kernel " + std::to_string(g.kernel_h) + "x" + std::to_string(g.kernel_w) + ", " +
              std::to_string(g.out_channels) + " outputs");
}

}  // namespace

CudaBackend::ConvChoice CudaBackend::cached_conv_choice(const ConvKey& key, const std::function<ConvChoice()>& choose) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = conv_choices_.find(key);
    if (it != conv_choices_.end()) return it->second;
  }
  const ConvChoice choice = choose();
  std::lock_guard<std::mutex> lock(mutex_);
  conv_choices_[key] = choice;
  return choice;
}

cudnnContext* CudaBackend::cudnn() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!cudnn_) {
    cudnnHandle_t handle = nullptr;
    SWS_CUDNN_CHECK(cudnnCreate(&handle));
    cudnn_ = handle;  // runs on the legacy default stream, like every other op here
  }
  return cudnn_;
}

CudaBackend::ConvKey CudaBackend::conv_key(const Conv2dGeometry& g, DType dtype, ConvDirection direction) {
  return {g.batch, g.in_channels, g.in_h, g.in_w, g.out_channels, g.kernel_h, g.kernel_w,
          g.stride, g.padding, static_cast<int64_t>(dtype), direction};
}

static void check_conv_operands(const char* op, const Tensor& x, const Tensor& w, const Tensor& y,
                                const Conv2dGeometry& g) {
  check_operands(op, {&x, &w, &y});
  SWS_CHECK(x.dtype() == w.dtype() && x.dtype() == y.dtype() &&
                (x.dtype() == DType::F32 || x.dtype() == DType::F64),
            std::string(op) + ": dtypes differ or are not F32/F64: " + describe(x) + ", " + describe(w) + ", " +
                describe(y));
  SWS_CHECK(x.numel() == g.batch * g.in_channels * g.in_h * g.in_w &&
                w.numel() == g.out_channels * g.in_channels * g.kernel_h * g.kernel_w &&
                y.numel() == g.batch * g.out_channels * g.out_h() * g.out_w(),
            std::string(op) + ": tensors do not match the geometry: " + describe(x) + ", " + describe(w) + ", " +
                describe(y));
}

void CudaBackend::conv2d_forward(const Tensor& x, const Tensor& w, const Tensor* bias, const Conv2dGeometry& g,
                                 Tensor& out) {
  check_conv_operands("conv2d", x, w, out, g);
  if (out.numel() == 0) return;
  if (x.numel() == 0) {  // empty input channels: the sum is empty
    fill(out, 0.0);
    if (bias) add_per_channel(out, *bias);
    return;
  }
  ConvDescriptors d(g, x.dtype());
  cudnnHandle_t handle = cudnn();
  const ConvChoice choice = cached_conv_choice(conv_key(g, x.dtype(), kForward), [&] {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int returned = 0;
    SWS_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(handle, d.x.d, d.w.d, d.conv.d, d.y.d,
                                                           CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf));
    const int i = pick_candidate(perf, returned, x.dtype(), g, "forward");
    return ConvChoice{static_cast<int>(perf[i].algo)};
  });
  const auto algo = static_cast<cudnnConvolutionFwdAlgo_t>(choice.algorithm);
  size_t workspace_bytes = 0;
  SWS_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(handle, d.x.d, d.w.d, d.conv.d, d.y.d, algo,
                                                          &workspace_bytes));
  Tensor workspace = Tensor::empty({static_cast<int64_t>(workspace_bytes)}, DType::U8, device());
  const Scaling s(x.dtype());
  SWS_CUDNN_CHECK(cudnnConvolutionForward(handle, s.one(), d.x.d, x.raw_data(), d.w.d, w.raw_data(), d.conv.d,
                                          algo, workspace.raw_data(), workspace_bytes, s.zero(), d.y.d,
                                          out.raw_data()));
  if (bias) add_per_channel(out, *bias);
}

void CudaBackend::conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& grad_out,
                                  const Conv2dGeometry& g, Tensor* grad_x, Tensor* grad_w, Tensor* grad_bias) {
  check_conv_operands("conv2d_backward", x, w, grad_out, g);
  if (grad_x) check_conv_operands("conv2d_backward", *grad_x, w, grad_out, g);
  if (grad_w) check_conv_operands("conv2d_backward", x, *grad_w, grad_out, g);
  if (grad_bias) sum_per_channel(grad_out, *grad_bias);
  if (!grad_x && !grad_w) return;
  if (x.numel() == 0 || grad_out.numel() == 0) {  // degenerate: every gradient entry is an empty sum
    if (grad_x) fill(*grad_x, 0.0);
    if (grad_w) fill(*grad_w, 0.0);
    return;
  }
  ConvDescriptors d(g, x.dtype());
  cudnnHandle_t handle = cudnn();
  const Scaling s(x.dtype());
  if (grad_x) {  // dx = conv_transpose(dy, w), overwritten (beta = 0)
    const ConvChoice choice = cached_conv_choice(conv_key(g, x.dtype(), kBackwardData), [&] {
      cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
      int returned = 0;
      SWS_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(
          handle, d.w.d, d.y.d, d.conv.d, d.x.d, CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &returned, perf));
      const int i = pick_candidate(perf, returned, x.dtype(), g, "backward-data");
      return ConvChoice{static_cast<int>(perf[i].algo)};
    });
    const auto algo = static_cast<cudnnConvolutionBwdDataAlgo_t>(choice.algorithm);
    size_t workspace_bytes = 0;
    SWS_CUDNN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize(handle, d.w.d, d.y.d, d.conv.d, d.x.d, algo,
                                                                 &workspace_bytes));
    Tensor workspace = Tensor::empty({static_cast<int64_t>(workspace_bytes)}, DType::U8, device());
    SWS_CUDNN_CHECK(cudnnConvolutionBackwardData(handle, s.one(), d.w.d, w.raw_data(), d.y.d, grad_out.raw_data(),
                                                 d.conv.d, algo, workspace.raw_data(), workspace_bytes, s.zero(),
                                                 d.x.d, grad_x->raw_data()));
  }
  if (grad_w) {  // dw = correlation of x with dy, overwritten (beta = 0)
    const ConvChoice choice = cached_conv_choice(conv_key(g, x.dtype(), kBackwardFilter), [&] {
      cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
      int returned = 0;
      SWS_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          handle, d.x.d, d.y.d, d.conv.d, d.w.d, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &returned, perf));
      const int i = pick_candidate(perf, returned, x.dtype(), g, "backward-filter");
      return ConvChoice{static_cast<int>(perf[i].algo)};
    });
    const auto algo = static_cast<cudnnConvolutionBwdFilterAlgo_t>(choice.algorithm);
    size_t workspace_bytes = 0;
    SWS_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, d.x.d, d.y.d, d.conv.d, d.w.d, algo,
                                                                   &workspace_bytes));
    Tensor workspace = Tensor::empty({static_cast<int64_t>(workspace_bytes)}, DType::U8, device());
    SWS_CUDNN_CHECK(cudnnConvolutionBackwardFilter(handle, s.one(), d.x.d, x.raw_data(), d.y.d,
                                                   grad_out.raw_data(), d.conv.d, algo, workspace.raw_data(),
                                                   workspace_bytes, s.zero(), d.w.d, grad_w->raw_data()));
  }
}

// --- max-pooling ------------------------------------------------------------------------------

// One thread per output element: the window's maximum and its flat index within the plane.
// Scan order (row by row), '>' (the first maximum wins ties) and "the last NaN in the window
// wins" are the CPU backend's, so out and argmax match it exactly.
template <typename T>
__global__ void max_pool_forward_kernel(const T* x, T* out, int32_t* argmax, int64_t total, int64_t in_h,
                                        int64_t in_w, int64_t out_h, int64_t out_w, int64_t kernel, int64_t stride) {
  SWS_GRID_STRIDE_LOOP(o, total) {
    const int64_t plane = o / (out_h * out_w), rest = o - plane * out_h * out_w;
    const int64_t y = rest / out_w, xo = rest - y * out_w;
    const T* in = x + plane * in_h * in_w;
    const int64_t corner = y * stride * in_w + xo * stride;
    T best = in[corner];
    int64_t best_i = corner;
    for (int64_t ky = 0; ky < kernel; ++ky)
      for (int64_t kx = 0; kx < kernel; ++kx) {
        const int64_t i = corner + ky * in_w + kx;
        const T v = in[i];
        if (v > best || v != v) {
          best = v;
          best_i = i;
        }
      }
    out[o] = best;
    argmax[o] = static_cast<int32_t>(best_i);
  }
}

// One thread per input element (a gather, so no atomics even when windows overlap): the sum of
// grad_out over the windows containing the element whose argmax is the element, added in
// increasing output index, the order in which the CPU's scatter adds them: same bits.
// (An argmax outside its own window cannot come from max_pool2d_forward and is ignored.)
template <typename T>
__global__ void max_pool_backward_kernel(const T* grad_out, const int32_t* argmax, T* grad_x, int64_t total,
                                         int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, int64_t kernel,
                                         int64_t stride) {
  SWS_GRID_STRIDE_LOOP(e, total) {
    const int64_t plane = e / (in_h * in_w), flat = e - plane * in_h * in_w;
    const int64_t iy = flat / in_w, ix = flat - iy * in_w;
    // Windows oy with oy*stride <= iy <= oy*stride + kernel - 1, likewise for x.
    const int64_t y_lo = iy - kernel + 1 <= 0 ? 0 : (iy - kernel + 1 + stride - 1) / stride;
    const int64_t x_lo = ix - kernel + 1 <= 0 ? 0 : (ix - kernel + 1 + stride - 1) / stride;
    const int64_t y_hi = iy / stride < out_h - 1 ? iy / stride : out_h - 1;
    const int64_t x_hi = ix / stride < out_w - 1 ? ix / stride : out_w - 1;
    const T* g = grad_out + plane * out_h * out_w;
    const int32_t* idx = argmax + plane * out_h * out_w;
    T acc = T(0);
    for (int64_t oy = y_lo; oy <= y_hi; ++oy)
      for (int64_t ox = x_lo; ox <= x_hi; ++ox)
        if (idx[oy * out_w + ox] == flat) acc += g[oy * out_w + ox];
    grad_x[e] = acc;
  }
}

static void check_pool(const char* op, const Tensor& x, const Tensor& out, const Tensor& argmax,
                       const Pool2dGeometry& g) {
  check_operands(op, {&x, &out, &argmax});
  SWS_CHECK(g.kernel >= 1 && g.stride >= 1 && g.in_h >= g.kernel && g.in_w >= g.kernel,
            std::string(op) + ": invalid geometry (kernel " + std::to_string(g.kernel) + ", stride " +
                std::to_string(g.stride) + ")");
  SWS_CHECK(g.in_h * g.in_w <= INT32_MAX, std::string(op) + ": plane too large for I32 argmax");
  SWS_CHECK(argmax.dtype() == DType::I32 && x.dtype() == out.dtype() &&
                x.numel() == g.batch * g.channels * g.in_h * g.in_w &&
                out.numel() == g.batch * g.channels * g.out_h() * g.out_w() && argmax.numel() == out.numel(),
            std::string(op) + ": tensors do not match the geometry: " + describe(x) + ", " + describe(out) + ", " +
                describe(argmax));
}

void CudaBackend::max_pool2d_forward(const Tensor& x, const Pool2dGeometry& g, Tensor& out, Tensor& argmax) {
  check_pool("max_pool2d", x, out, argmax, g);
  const int64_t total = out.numel();
  if (total == 0) return;
  SWS_DISPATCH_FLOAT(x.dtype(), "max_pool2d", {
    max_pool_forward_kernel<<<blocks_for(total), kThreads>>>(x.data<scalar_t>(), out.data<scalar_t>(),
                                                             argmax.data<int32_t>(), total, g.in_h, g.in_w,
                                                             g.out_h(), g.out_w(), g.kernel, g.stride);
    SWS_CUDA_CHECK_LAUNCH();
  });
}

void CudaBackend::max_pool2d_backward(const Tensor& grad_out, const Tensor& argmax, const Pool2dGeometry& g,
                                      Tensor& grad_x) {
  check_pool("max_pool2d_backward", grad_x, grad_out, argmax, g);
  const int64_t total = grad_x.numel();
  if (total == 0) return;
  SWS_DISPATCH_FLOAT(grad_x.dtype(), "max_pool2d_backward", {
    max_pool_backward_kernel<<<blocks_for(total), kThreads>>>(grad_out.data<scalar_t>(), argmax.data<int32_t>(),
                                                              grad_x.data<scalar_t>(), total, g.in_h, g.in_w,
                                                              g.out_h(), g.out_w(), g.kernel, g.stride);
    SWS_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace sws::cuda
