// CUDA backend: the registry entry, memory (a caching allocator), copies, elementwise kernels,
// reductions, GEMM through cuBLAS and the optimiser updates. Convolution and pooling are in
// cuda_conv.cu, softmax and loss in cuda_softmax.cu, the prior in cuda_mixture_prior.cu.
#include "cuda/cuda_backend.h"

#include <dlfcn.h>

#include <climits>
#include <cmath>
#include <memory>
#include <initializer_list>
#include <type_traits>

#include "cuda/cuda_kernels.cuh"

namespace sws {

// --- registry ---------------------------------------------------------------------------------

// Declared in core/cpu_backend.cpp, which calls it from backend_for and cuda_available. The
// backend is made on the first call (not by a static initialiser, which the static library's
// linker could drop) and lives until exit; tensors made after it are destroyed before it.
Backend* cuda_backend_or_null(std::string* why) {
  struct Holder {
    std::unique_ptr<cuda::CudaBackend> backend;
    std::string why;
  };
  static Holder holder = [] {
    Holder h;
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
      h.why = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(status);
      cudaGetLastError();  // clear it, so that no later check reports it
    } else if (count == 0) {
      h.why = "cudaGetDeviceCount: 0 devices";
    } else {
      try {
        h.backend = std::make_unique<cuda::CudaBackend>();
      } catch (const std::exception& e) {
        h.why = e.what();
      }
    }
    return h;
  }();
  if (!holder.backend && why) *why = holder.why;
  return holder.backend.get();
}

namespace cuda {

// --- cuBLAS, opened at run time ------------------------------------------------------------

// cuBLAS is opened with dlopen on first use instead of being linked: loading libcublas (and
// libcublasLt) registers all their kernels, which cost every sws process about 0.15 s at start-up
// (twice, as sws re-executes itself for OpenBLAS), GPU or not. The function types come from
// cublas_v2.h / cublas_api.h through decltype, so they cannot drift from the real signatures.
struct CublasApi {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetMathMode) set_math_mode = nullptr;
  decltype(&cublasSgemm_v2) sgemm = nullptr;
  decltype(&cublasDgemm_v2) dgemm = nullptr;
  decltype(&cublasGetStatusString) status_string = nullptr;
};

#define SWS_STRINGIFY_(x) #x
#define SWS_STRINGIFY(x) SWS_STRINGIFY_(x)

// The loaded API, or null with the reason in *why (only the first call tries).
static const CublasApi* cublas_api(std::string* why) {
  static std::string failure;
  static const CublasApi* api = [] () -> const CublasApi* {
    // By soname (found through the executable's run path, like libcudart), else the library
    // CMake found at build time.
    const char* names[] = {"libcublas.so." SWS_STRINGIFY(CUBLAS_VER_MAJOR), SWS_CUBLAS_LIBRARY};
    void* lib = nullptr;
    for (const char* name : names)
      if ((lib = dlopen(name, RTLD_NOW | RTLD_LOCAL)) != nullptr) break;
    if (!lib) {
      const char* error = dlerror();
      failure = std::string("cannot load cuBLAS (libcublas.so." SWS_STRINGIFY(CUBLAS_VER_MAJOR) " or " SWS_CUBLAS_LIBRARY
                            "): ") + (error ? error : "unknown error");
      return nullptr;
    }
    static CublasApi loaded;
    auto bind = [&](auto& fn, const char* symbol) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, symbol));
      if (!fn) failure += std::string(failure.empty() ? "cuBLAS lacks " : ", ") + symbol;
    };
    bind(loaded.create, "cublasCreate_v2");
    bind(loaded.destroy, "cublasDestroy_v2");
    bind(loaded.set_math_mode, "cublasSetMathMode");
    bind(loaded.sgemm, "cublasSgemm_v2");
    bind(loaded.dgemm, "cublasDgemm_v2");
    bind(loaded.status_string, "cublasGetStatusString");
    return failure.empty() ? &loaded : nullptr;
  }();
  if (!api && why) *why = failure;
  return api;
}

const char* cublas_status_string(cublasStatus_t status) {
  const CublasApi* api = cublas_api(nullptr);
  return api ? api->status_string(status) : "unknown cuBLAS status";
}

// --- memory -----------------------------------------------------------------------------------

// Sizes are rounded up (512 bytes below 1 MiB, 64 KiB above) so that blocks of nearly equal
// size are shared; cudaMalloc's own alignment is 256 bytes.
static size_t rounded(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = 64 << 10;
  const size_t unit = bytes < (size_t{1} << 20) ? kSmall : kLarge;
  return std::max(unit, (bytes + unit - 1) / unit * unit);
}

CudaBackend::CudaBackend() {
  SWS_CUDA_CHECK(cudaSetDevice(0));
  SWS_CUDA_CHECK(cudaFree(nullptr));  // creates the context now, not inside the first op
}

CudaBackend::~CudaBackend() {
  // At process exit the runtime may be unloading already (cudaErrorCudartUnloading): then the
  // driver reclaims everything and nothing here may throw or touch the libraries.
  if (cudaFree(nullptr) != cudaSuccess) return;
  for (void* p : cache_.drain()) cudaFree(p);
  // The cuBLAS and cuDNN handles are left to the driver, as PyTorch leaves them: this destructor
  // runs at exit, and libcublas (opened later than this object was built) and cuDNN's lazily
  // loaded sub-libraries may have run their own exit clean-up already.
}

void* CudaBackend::allocate(size_t bytes) {
  const size_t size = rounded(bytes);
  if (void* p = cache_.take(size)) return p;
  void* p = nullptr;
  cudaError_t status = cudaMalloc(&p, size);
  if (status == cudaErrorMemoryAllocation) {  // give the cache back and try once more
    cudaGetLastError();
    release_cache();
    status = cudaMalloc(&p, size);
  }
  if (status == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // an allocation failure is not sticky: clear it for later checks
    throw Error("out of GPU memory allocating " + std::to_string(bytes) + " bytes on cuda:0 (" +
                std::to_string(memory_stats().system_allocations) + " blocks allocated so far); use a smaller --batch");
  }
  if (status != cudaSuccess)  // e.g. a sticky error left by an earlier kernel fault
    throw Error("cudaMalloc of " + std::to_string(bytes) + " bytes on cuda:0 failed: " + cudaGetErrorString(status));
  cache_.count_system_allocation();
  return p;
}

void CudaBackend::deallocate(void* ptr, size_t bytes) {
  if (!ptr) return;
  cache_.give(ptr, rounded(bytes));
}

void CudaBackend::release_cache() {
  for (void* p : cache_.drain()) cudaFree(p);  // cudaFree waits for the device: no kernel still uses p
}

MemoryStats CudaBackend::memory_stats() {
  return cache_.stats();
}

void CudaBackend::copy_from_host(void* dst, const void* src, size_t bytes) {
  if (bytes) SWS_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}
void CudaBackend::copy_to_host(void* dst, const void* src, size_t bytes) {
  if (bytes) SWS_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}
void CudaBackend::copy_within(void* dst, const void* src, size_t bytes) {
  if (bytes && dst != src) SWS_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice));
}

// --- strided gather ---------------------------------------------------------------------------

constexpr int kMaxDims = 8;

struct StridedLayout {
  int dims;
  int64_t shape[kMaxDims];
  int64_t strides[kMaxDims];  // in elements
};

// dst[i] = src[offset of the i-th index in row-major order]; E is an unsigned integer of the
// element's size, so one kernel per size serves every dtype.
template <typename E>
__global__ void gather_kernel(const E* src, E* dst, int64_t n, StridedLayout layout) {
  SWS_GRID_STRIDE_LOOP(i, n) {
    int64_t rest = i, offset = 0;
    for (int d = layout.dims - 1; d >= 0; --d) {
      const int64_t index = rest % layout.shape[d];
      rest /= layout.shape[d];
      offset += index * layout.strides[d];
    }
    dst[i] = src[offset];
  }
}

void CudaBackend::make_contiguous(const Tensor& src, Tensor& out) {
  check_operands("make_contiguous", {&out});  // src is strided: only its device is checked
  SWS_CHECK(src.defined() && !src.device().is_cpu(), "make_contiguous: expected a CUDA tensor, got " + describe(src));
  SWS_CHECK(src.dim() <= kMaxDims, "make_contiguous on CUDA supports up to " + std::to_string(kMaxDims) +
                                       " dimensions, got " + describe(src));
  SWS_CHECK(src.dtype() == out.dtype() && src.numel() == out.numel() && out.is_contiguous(),
            "make_contiguous: " + describe(src) + " into " + describe(out));
  const int64_t n = src.numel();
  if (n == 0) return;
  StridedLayout layout{};
  layout.dims = static_cast<int>(src.dim());
  for (int d = 0; d < layout.dims; ++d) {
    layout.shape[d] = src.shape()[d];
    layout.strides[d] = src.strides()[d];
  }
  const unsigned blocks = blocks_for(n);
  switch (dtype_size(src.dtype())) {
    case 1:
      gather_kernel<<<blocks, kThreads>>>(static_cast<const uint8_t*>(src.raw_data()),
                                          static_cast<uint8_t*>(out.raw_data()), n, layout);
      break;
    case 4:
      gather_kernel<<<blocks, kThreads>>>(static_cast<const uint32_t*>(src.raw_data()),
                                          static_cast<uint32_t*>(out.raw_data()), n, layout);
      break;
    case 8:
      gather_kernel<<<blocks, kThreads>>>(static_cast<const uint64_t*>(src.raw_data()),
                                          static_cast<uint64_t*>(out.raw_data()), n, layout);
      break;
    default: throw Error("make_contiguous: unsupported element size for " + describe(src));
  }
  SWS_CUDA_CHECK_LAUNCH();
}

// --- elementwise ------------------------------------------------------------------------------

template <typename T>
__global__ void fill_kernel(T* p, int64_t n, T value) {
  SWS_GRID_STRIDE_LOOP(i, n) p[i] = value;
}

template <typename T>
static void launch_fill(void* p, int64_t n, T value) {
  fill_kernel<<<blocks_for(n), kThreads>>>(static_cast<T*>(p), n, value);
  SWS_CUDA_CHECK_LAUNCH();
}

void CudaBackend::fill(Tensor& out, double value) {
  check_operands("fill", {&out});
  const int64_t n = out.numel();
  if (n == 0) return;
  switch (out.dtype()) {  // the value is converted on the host, as the CPU backend does
    case DType::F32: launch_fill(out.raw_data(), n, static_cast<float>(value)); break;
    case DType::F64: launch_fill(out.raw_data(), n, value); break;
    case DType::I32: launch_fill(out.raw_data(), n, static_cast<int32_t>(value)); break;
    case DType::I64: launch_fill(out.raw_data(), n, static_cast<int64_t>(value)); break;
    case DType::U8: launch_fill(out.raw_data(), n, static_cast<uint8_t>(value)); break;
  }
}

template <typename From, typename To>
__global__ void cast_kernel(const From* x, To* y, int64_t n) {
  SWS_GRID_STRIDE_LOOP(i, n) y[i] = static_cast<To>(x[i]);
}

template <typename From>
static void cast_from(const Tensor& x, Tensor& out, int64_t n) {
  const From* src = static_cast<const From*>(x.raw_data());
  const unsigned blocks = blocks_for(n);
  switch (out.dtype()) {
    case DType::F32: cast_kernel<<<blocks, kThreads>>>(src, static_cast<float*>(out.raw_data()), n); break;
    case DType::F64: cast_kernel<<<blocks, kThreads>>>(src, static_cast<double*>(out.raw_data()), n); break;
    case DType::I32: cast_kernel<<<blocks, kThreads>>>(src, static_cast<int32_t*>(out.raw_data()), n); break;
    case DType::I64: cast_kernel<<<blocks, kThreads>>>(src, static_cast<int64_t*>(out.raw_data()), n); break;
    case DType::U8: cast_kernel<<<blocks, kThreads>>>(src, static_cast<uint8_t*>(out.raw_data()), n); break;
  }
  SWS_CUDA_CHECK_LAUNCH();
}

void CudaBackend::cast(const Tensor& x, Tensor& out) {
  check_operands("cast", {&x, &out});
  SWS_CHECK(x.numel() == out.numel(), "cast: " + describe(x) + " into " + describe(out));
  const int64_t n = x.numel();
  if (n == 0) return;
  switch (x.dtype()) {
    case DType::F32: cast_from<float>(x, out, n); break;
    case DType::F64: cast_from<double>(x, out, n); break;
    case DType::I32: cast_from<int32_t>(x, out, n); break;
    case DType::I64: cast_from<int64_t>(x, out, n); break;
    case DType::U8: cast_from<uint8_t>(x, out, n); break;
  }
}

template <typename T, UnaryOp Op>
__global__ void unary_kernel(const T* a, T* y, int64_t n) {
  SWS_GRID_STRIDE_LOOP(i, n) {
    const T v = a[i];
    if constexpr (Op == UnaryOp::Neg) y[i] = -v;
    if constexpr (Op == UnaryOp::Exp) y[i] = exp_of(v);
    if constexpr (Op == UnaryOp::Log) y[i] = log_of(v);
    if constexpr (Op == UnaryOp::Sqrt) y[i] = sqrt_of(v);
    if constexpr (Op == UnaryOp::Relu) y[i] = v > T(0) ? v : T(0);  // NaN -> 0, as on the CPU
  }
}

template <typename T>
static void launch_unary(UnaryOp op, const T* a, T* y, int64_t n) {
  const unsigned blocks = blocks_for(n);
  switch (op) {
    case UnaryOp::Neg: unary_kernel<T, UnaryOp::Neg><<<blocks, kThreads>>>(a, y, n); break;
    case UnaryOp::Exp: unary_kernel<T, UnaryOp::Exp><<<blocks, kThreads>>>(a, y, n); break;
    case UnaryOp::Log: unary_kernel<T, UnaryOp::Log><<<blocks, kThreads>>>(a, y, n); break;
    case UnaryOp::Sqrt: unary_kernel<T, UnaryOp::Sqrt><<<blocks, kThreads>>>(a, y, n); break;
    case UnaryOp::Relu: unary_kernel<T, UnaryOp::Relu><<<blocks, kThreads>>>(a, y, n); break;
  }
  SWS_CUDA_CHECK_LAUNCH();
}

void CudaBackend::unary(UnaryOp op, const Tensor& x, Tensor& out) {
  check_operands("unary", {&x, &out});
  SWS_CHECK(x.numel() == out.numel() && x.dtype() == out.dtype(), "unary: " + describe(x) + " into " + describe(out));
  const int64_t n = x.numel();
  if (n == 0) return;
  SWS_DISPATCH_FLOAT(x.dtype(), "unary", launch_unary<scalar_t>(op, x.data<scalar_t>(), out.data<scalar_t>(), n));
}

// Same-shape operands only, no broadcasting: exactly the CPU backend's contract (autograd/ops.h).
template <typename T, BinaryOp Op>
__global__ void binary_kernel(const T* a, const T* b, T* y, int64_t n) {
  SWS_GRID_STRIDE_LOOP(i, n) {
    if constexpr (Op == BinaryOp::Add) y[i] = a[i] + b[i];
    if constexpr (Op == BinaryOp::Sub) y[i] = a[i] - b[i];
    if constexpr (Op == BinaryOp::Mul) y[i] = a[i] * b[i];
    if constexpr (Op == BinaryOp::Div) y[i] = a[i] / b[i];
  }
}

template <typename T>
static void launch_binary(BinaryOp op, const T* a, const T* b, T* y, int64_t n) {
  const unsigned blocks = blocks_for(n);
  switch (op) {
    case BinaryOp::Add: binary_kernel<T, BinaryOp::Add><<<blocks, kThreads>>>(a, b, y, n); break;
    case BinaryOp::Sub: binary_kernel<T, BinaryOp::Sub><<<blocks, kThreads>>>(a, b, y, n); break;
    case BinaryOp::Mul: binary_kernel<T, BinaryOp::Mul><<<blocks, kThreads>>>(a, b, y, n); break;
    case BinaryOp::Div: binary_kernel<T, BinaryOp::Div><<<blocks, kThreads>>>(a, b, y, n); break;
  }
  SWS_CUDA_CHECK_LAUNCH();
}

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  check_operands("binary", {&a, &b, &out});
  SWS_CHECK(a.numel() == b.numel() && a.numel() == out.numel() && a.dtype() == b.dtype() &&
                a.dtype() == out.dtype(),
            "binary: " + describe(a) + " and " + describe(b) + " into " + describe(out) +
                " (same shape and dtype needed, no broadcasting)");
  const int64_t n = a.numel();
  if (n == 0) return;
  SWS_DISPATCH_FLOAT(a.dtype(), "binary",
                     launch_binary<scalar_t>(op, a.data<scalar_t>(), b.data<scalar_t>(), out.data<scalar_t>(), n));
}

template <typename T>
__global__ void affine_kernel(const T* a, T* y, int64_t n, T alpha, T beta) {
  SWS_GRID_STRIDE_LOOP(i, n) y[i] = alpha * a[i] + beta;
}

void CudaBackend::affine(const Tensor& x, double alpha, double beta, Tensor& out) {
  check_operands("affine", {&x, &out});
  SWS_CHECK(x.numel() == out.numel() && x.dtype() == out.dtype(), "affine: " + describe(x) + " into " + describe(out));
  const int64_t n = x.numel();
  if (n == 0) return;
  SWS_DISPATCH_FLOAT(x.dtype(), "affine", {
    affine_kernel<<<blocks_for(n), kThreads>>>(x.data<scalar_t>(), out.data<scalar_t>(), n,
                                               static_cast<scalar_t>(alpha), static_cast<scalar_t>(beta));
    SWS_CUDA_CHECK_LAUNCH();
  });
}

template <typename T>
__global__ void axpy_kernel(const T* x, T* y, int64_t n, T alpha) {
  SWS_GRID_STRIDE_LOOP(i, n) y[i] += alpha * x[i];
}

void CudaBackend::axpy(double alpha, const Tensor& x, Tensor& y) {
  check_operands("axpy", {&x, &y});
  SWS_CHECK(x.numel() == y.numel() && x.dtype() == y.dtype(), "axpy: " + describe(x) + " into " + describe(y));
  const int64_t n = x.numel();
  if (n == 0) return;
  SWS_DISPATCH_FLOAT(x.dtype(), "axpy", {
    axpy_kernel<<<blocks_for(n), kThreads>>>(x.data<scalar_t>(), y.data<scalar_t>(), n, static_cast<scalar_t>(alpha));
    SWS_CUDA_CHECK_LAUNCH();
  });
}

template <typename T>
__global__ void relu_backward_kernel(const T* g, const T* y, T* out, int64_t n) {
  SWS_GRID_STRIDE_LOOP(i, n) out[i] = y[i] > T(0) ? g[i] : T(0);
}

void CudaBackend::relu_backward(const Tensor& grad, const Tensor& y, Tensor& out) {
  check_operands("relu_backward", {&grad, &y, &out});
  SWS_CHECK(grad.numel() == y.numel() && grad.numel() == out.numel() && grad.dtype() == y.dtype() &&
                grad.dtype() == out.dtype(),
            "relu_backward: " + describe(grad) + ", " + describe(y) + " into " + describe(out));
  const int64_t n = grad.numel();
  if (n == 0) return;
  SWS_DISPATCH_FLOAT(grad.dtype(), "relu_backward", {
    relu_backward_kernel<<<blocks_for(n), kThreads>>>(grad.data<scalar_t>(), y.data<scalar_t>(),
                                                      out.data<scalar_t>(), n);
    SWS_CUDA_CHECK_LAUNCH();
  });
}

// --- reductions -------------------------------------------------------------------------------

// First pass of sum: block b adds its grid-stride share of x in double, partial[b] = its total.
template <typename T>
__global__ void sum_partials_kernel(const T* x, int64_t n, double* partial) {
  __shared__ double scratch[kWarps];
  double s = 0.0;
  SWS_GRID_STRIDE_LOOP(i, n) s += static_cast<double>(x[i]);
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

void CudaBackend::sum(const Tensor& x, Tensor& out) {
  check_operands("sum", {&x, &out});
  SWS_CHECK(out.numel() == 1 && out.dtype() == x.dtype(), "sum: " + describe(x) + " into " + describe(out));
  const int64_t n = x.numel();
  // The grid depends only on n (never on the GPU), and both passes add in a fixed order: the
  // same input gives the same bits.
  const unsigned blocks = std::min(blocks_for(n, 8), 1024u);
  Tensor partial = Tensor::empty({blocks}, DType::F64, device());
  SWS_DISPATCH_FLOAT(x.dtype(), "sum", {
    sum_partials_kernel<<<blocks, kThreads>>>(x.data<scalar_t>(), n, partial.data<double>());
    SWS_CUDA_CHECK_LAUNCH();
    finish_sum_kernel<<<1, kThreads>>>(partial.data<double>(), blocks, 1.0, out.data<scalar_t>());
    SWS_CUDA_CHECK_LAUNCH();
  });
}

// One block per channel c: the sum over batch b and inner index i of x[(b*C + c)*inner + i].
template <typename T>
__global__ void sum_per_channel_kernel(const T* x, int64_t batch, int64_t channels, int64_t inner, T* out) {
  __shared__ double scratch[kWarps];
  const int64_t c = blockIdx.x, count = batch * inner;
  double s = 0.0;
  for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
    const int64_t b = e / inner, i = e - b * inner;
    s += static_cast<double>(x[(b * channels + c) * inner + i]);
  }
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) out[c] = static_cast<T>(s);
}

void CudaBackend::sum_per_channel(const Tensor& x, Tensor& out) {
  check_operands("sum_per_channel", {&x, &out});
  const int64_t batch = x.size(0), channels = x.size(1);
  const int64_t inner = x.numel() / std::max<int64_t>(1, batch * channels);
  SWS_CHECK(out.numel() == channels && out.dtype() == x.dtype(),
            "sum_per_channel: " + describe(x) + " into " + describe(out));
  SWS_CHECK(channels < INT_MAX, "sum_per_channel: too many channels in " + describe(x));
  if (channels == 0) return;
  SWS_DISPATCH_FLOAT(x.dtype(), "sum_per_channel", {
    sum_per_channel_kernel<<<static_cast<unsigned>(channels), kThreads>>>(x.data<scalar_t>(), batch, channels,
                                                                         inner, out.data<scalar_t>());
    SWS_CUDA_CHECK_LAUNCH();
  });
}

template <typename T>
__global__ void add_per_channel_kernel(T* x, const T* bias, int64_t n, int64_t channels, int64_t inner) {
  SWS_GRID_STRIDE_LOOP(i, n) x[i] += bias[(i / inner) % channels];
}

void CudaBackend::add_per_channel(Tensor& x, const Tensor& bias) {
  check_operands("add_per_channel", {&x, &bias});
  const int64_t batch = x.size(0), channels = x.size(1);
  const int64_t inner = x.numel() / std::max<int64_t>(1, batch * channels);
  SWS_CHECK(bias.numel() == channels && bias.dtype() == x.dtype(),
            "add_per_channel: " + describe(bias) + " onto " + describe(x));
  const int64_t n = x.numel();
  if (n == 0) return;
  SWS_DISPATCH_FLOAT(x.dtype(), "add_per_channel", {
    add_per_channel_kernel<<<blocks_for(n), kThreads>>>(x.data<scalar_t>(), bias.data<scalar_t>(), n, channels,
                                                        inner);
    SWS_CUDA_CHECK_LAUNCH();
  });
}

// --- GEMM -------------------------------------------------------------------------------------

cublasContext* CudaBackend::cublas() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!cublas_) {
    std::string why;
    const CublasApi* api = cublas_api(&why);
    SWS_CHECK(api != nullptr, "gemm on cuda:0: " + why);
    cublasHandle_t handle = nullptr;
    SWS_CUBLAS_CHECK(api->create(&handle));
    // CUBLAS_DEFAULT_MATH: full FP32, no TF32 tensor-core rounding, so F32 products stay within
    // float rounding of the CPU's.
    SWS_CUBLAS_CHECK(api->set_math_mode(handle, CUBLAS_DEFAULT_MATH));
    cublas_ = handle;
  }
  return cublas_;
}

// Row-major C[m, n] = alpha op(A) op(B) + beta C through column-major cuBLAS: a row-major
// matrix is its transpose in column-major order, so cuBLAS computes
// C^T[n, m] = op(B)^T op(A)^T with B first: op flags unchanged, leading dimensions = the row
// lengths of B, A and C.
void CudaBackend::gemm(bool ta, bool tb, double alpha, const Tensor& a, const Tensor& b, double beta,
                       Tensor& c) {
  check_operands("gemm", {&a, &b, &c});
  const GemmSize size = gemm_size(ta, tb, a, b, c);
  if (gemm_without_product(size, beta, c)) return;
  const int64_t m = size.m, n = size.n, k = size.k;
  for (int64_t v : {m, n, k, a.size(1), b.size(1)})
    SWS_CHECK(v <= INT_MAX, "gemm: dimension too large for cuBLAS in " + describe(a) + " @ " + describe(b));
  const cublasOperation_t op_a = ta ? CUBLAS_OP_T : CUBLAS_OP_N, op_b = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int im = static_cast<int>(m), in = static_cast<int>(n), ik = static_cast<int>(k);
  const int lda = static_cast<int>(a.size(1)), ldb = static_cast<int>(b.size(1)), ldc = in;
  cublasHandle_t handle = cublas();
  if (a.dtype() == DType::F32) {
    const float al = static_cast<float>(alpha), be = static_cast<float>(beta);
    SWS_CUBLAS_CHECK(cublas_api(nullptr)->sgemm(handle, op_b, op_a, in, im, ik, &al, b.data<float>(), ldb,
                                                a.data<float>(), lda, &be, c.data<float>(), ldc));
  } else if (a.dtype() == DType::F64) {
    SWS_CUBLAS_CHECK(cublas_api(nullptr)->dgemm(handle, op_b, op_a, in, im, ik, &alpha, b.data<double>(), ldb,
                                                a.data<double>(), lda, &beta, c.data<double>(), ldc));
  } else {
    throw Error(std::string("gemm: unsupported dtype ") + dtype_name(a.dtype()) + " (F32 or F64 only)");
  }
}

// --- optimisers -------------------------------------------------------------------------------

// One Adam update of element i, in the CPU backend's order of operations (PyTorch's algorithm:
// weight decay added to the gradient, bias corrections folded into step_size and inv_sqrt_bc2).
template <typename T>
__device__ __forceinline__ void adam_element(int64_t i, T* p, const T* g, T* m, T* v, T b1, T b2, T wd, T eps,
                                             T step_size, T inv_sqrt_bc2) {
  const T gi = g[i] + wd * p[i];
  const T mi = b1 * m[i] + (T(1) - b1) * gi;
  const T vi = b2 * v[i] + (T(1) - b2) * gi * gi;
  m[i] = mi;
  v[i] = vi;
  p[i] -= step_size * mi / (sqrt_of(vi) * inv_sqrt_bc2 + eps);
}

template <typename T>
__global__ void adam_kernel(int64_t n, T* p, const T* g, T* m, T* v, T b1, T b2, T wd, T eps, T step_size,
                            T inv_sqrt_bc2) {
  SWS_GRID_STRIDE_LOOP(i, n) adam_element(i, p, g, m, v, b1, b2, wd, eps, step_size, inv_sqrt_bc2);
}

// The step's constants as the CPU backend computes them, in double.
struct AdamConstants {
  double beta1, beta2, weight_decay, eps, step_size, inv_sqrt_bc2;
};

static AdamConstants adam_constants(const AdamStep& s) {
  const double bias_correction1 = 1.0 - std::pow(s.beta1, static_cast<double>(s.step));
  const double bias_correction2 = 1.0 - std::pow(s.beta2, static_cast<double>(s.step));
  return {s.beta1, s.beta2, s.weight_decay, s.eps, s.lr / bias_correction1, 1.0 / std::sqrt(bias_correction2)};
}

static void check_adam_operands(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v) {
  check_operands("adam_update", {&p, &g, &m, &v});
  for (const Tensor* t : {&g, &m, &v})
    SWS_CHECK(t->numel() == p.numel() && t->dtype() == p.dtype(),
              "adam_update: " + describe(*t) + " does not match the parameter " + describe(p));
}

void CudaBackend::adam_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                              const AdamStep& s) {
  check_adam_operands(param, grad, exp_avg, exp_avg_sq);
  const int64_t n = param.numel();
  if (n == 0) return;
  const AdamConstants k = adam_constants(s);
  SWS_DISPATCH_FLOAT(param.dtype(), "adam_update", {
    using T = scalar_t;
    adam_kernel<T><<<blocks_for(n, 4), kThreads>>>(
        n, param.data<T>(), grad.data<T>(), exp_avg.data<T>(), exp_avg_sq.data<T>(), static_cast<T>(k.beta1),
        static_cast<T>(k.beta2), static_cast<T>(k.weight_decay), static_cast<T>(k.eps), static_cast<T>(k.step_size),
        static_cast<T>(k.inv_sqrt_bc2));
    SWS_CUDA_CHECK_LAUNCH();
  });
}

// One row of the fused Adam kernel's table: a tensor, its constants, and the first block of the
// grid that works on it (each block updates kAdamChunk consecutive elements of one tensor).
struct AdamSlot {
  void* p;
  const void* g;
  void* m;
  void* v;
  int64_t n;
  int64_t first_block;
  AdamConstants k;
};

constexpr int64_t kAdamChunk = 4 * kThreads;

template <typename T>
__global__ void adam_many_kernel(const AdamSlot* slots, int count) {
  // The slot of this block: the last one whose first_block <= blockIdx.x (binary search).
  const int64_t block = blockIdx.x;
  int lo = 0, hi = count - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (slots[mid].first_block <= block) lo = mid;
    else hi = mid - 1;
  }
  const AdamSlot& s = slots[lo];
  const int64_t start = (block - s.first_block) * kAdamChunk;
  const int64_t end = s.n < start + kAdamChunk ? s.n : start + kAdamChunk;
  T* p = static_cast<T*>(s.p);
  const T* g = static_cast<const T*>(s.g);
  T* m = static_cast<T*>(s.m);
  T* v = static_cast<T*>(s.v);
  const T b1 = static_cast<T>(s.k.beta1), b2 = static_cast<T>(s.k.beta2), wd = static_cast<T>(s.k.weight_decay);
  const T eps = static_cast<T>(s.k.eps), step_size = static_cast<T>(s.k.step_size);
  const T inv_sqrt_bc2 = static_cast<T>(s.k.inv_sqrt_bc2);
  for (int64_t i = start + threadIdx.x; i < end; i += blockDim.x)
    adam_element(i, p, g, m, v, b1, b2, wd, eps, step_size, inv_sqrt_bc2);
}

void CudaBackend::adam_update_many(const std::vector<AdamUpdate>& updates) {
  for (DType dtype : {DType::F32, DType::F64}) {
    std::vector<AdamSlot> slots;
    int64_t blocks = 0;
    for (const AdamUpdate& u : updates) {
      check_adam_operands(u.param, u.grad, u.exp_avg, u.exp_avg_sq);
      SWS_CHECK(u.param.dtype() == DType::F32 || u.param.dtype() == DType::F64,
                "adam_update: unsupported dtype in " + describe(u.param) + " (F32 or F64 only)");
      const int64_t n = u.param.numel();
      if (u.param.dtype() != dtype || n == 0) continue;
      slots.push_back(AdamSlot{u.param.raw_data(), u.grad.raw_data(), u.exp_avg.raw_data(),
                               u.exp_avg_sq.raw_data(), n, blocks, adam_constants(u.step)});
      blocks += (n + kAdamChunk - 1) / kAdamChunk;
    }
    if (slots.empty()) continue;
    SWS_CHECK(blocks <= INT_MAX && slots.size() <= INT_MAX, "adam_update_many: too many parameters");
    // The table goes to the device with a synchronous copy; the kernel reads it from there.
    const size_t bytes = slots.size() * sizeof(AdamSlot);
    Tensor table = Tensor::empty({static_cast<int64_t>(bytes)}, DType::U8, device());
    copy_from_host(table.raw_data(), slots.data(), bytes);
    const AdamSlot* device_slots = static_cast<const AdamSlot*>(table.raw_data());
    if (dtype == DType::F32)
      adam_many_kernel<float><<<static_cast<unsigned>(blocks), kThreads>>>(device_slots, static_cast<int>(slots.size()));
    else
      adam_many_kernel<double><<<static_cast<unsigned>(blocks), kThreads>>>(device_slots, static_cast<int>(slots.size()));
    SWS_CUDA_CHECK_LAUNCH();
  }
}

template <typename T>
__global__ void sgd_kernel(int64_t n, T* p, const T* g, T* buf, T lr, T mom, T wd, bool use_momentum,
                           bool first_step, bool nesterov) {
  SWS_GRID_STRIDE_LOOP(i, n) {
    const T gi = g[i] + wd * p[i];
    T d = gi;
    if (use_momentum) {
      buf[i] = first_step ? gi : mom * buf[i] + gi;
      d = nesterov ? gi + mom * buf[i] : buf[i];
    }
    p[i] -= lr * d;
  }
}

void CudaBackend::sgd_update(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdStep& s) {
  const bool use_momentum = s.momentum != 0.0;
  check_operands("sgd_update", {&param, &grad});
  if (use_momentum) check_operands("sgd_update", {&momentum_buffer});
  SWS_CHECK(grad.numel() == param.numel() && grad.dtype() == param.dtype(),
            "sgd_update: " + describe(grad) + " does not match the parameter " + describe(param));
  SWS_CHECK(!use_momentum || (momentum_buffer.numel() == param.numel() && momentum_buffer.dtype() == param.dtype()),
            "sgd_update: the momentum buffer " + describe(momentum_buffer) + " does not match the parameter " +
                describe(param));
  const int64_t n = param.numel();
  if (n == 0) return;
  SWS_DISPATCH_FLOAT(param.dtype(), "sgd_update", {
    using T = scalar_t;
    T* buf = use_momentum ? momentum_buffer.data<T>() : nullptr;
    sgd_kernel<T><<<blocks_for(n, 4), kThreads>>>(n, param.data<T>(), grad.data<T>(), buf, static_cast<T>(s.lr),
                                                  static_cast<T>(s.momentum), static_cast<T>(s.weight_decay),
                                                  use_momentum, s.first_step, s.nesterov);
    SWS_CUDA_CHECK_LAUNCH();
  });
}

}  // namespace cuda
}  // namespace sws
