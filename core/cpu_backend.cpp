// CPU backend: memory, the backend registry, elementwise kernels, reductions, GEMM and the
// optimiser updates. Convolution and pooling are in cpu_conv.cpp, softmax and loss in
// cpu_softmax.cpp.
#include "core/cpu_backend.h"
#include "core/cuda_available.h"

#include <cblas.h>
#include <omp.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace sws {

// --- registry ---------------------------------------------------------------------------------

#ifdef SWS_WITH_CUDA
// cuda/cuda_backend.cu: the CUDA backend for cuda:0, created on the first call (null with the
// reason in *why when no GPU is visible). Called from here, so the static library's linker
// always keeps it.
Backend* cuda_backend_or_null(std::string* why);
#endif

namespace {
Backend* g_cuda_backend = nullptr;  // set by register_backend; overrides the built-in one
}

bool cuda_available(std::string* why) {
  if (g_cuda_backend) return true;
#ifdef SWS_WITH_CUDA
  return cuda_backend_or_null(why) != nullptr;
#else
  if (why) *why = "this sws was built without the CUDA backend (configure with -DSWS_CUDA=ON)";
  return false;
#endif
}

Backend& backend_for(Device device) {
  static CpuBackend cpu;
  if (device.is_cpu()) return cpu;
  if (g_cuda_backend) return *g_cuda_backend;
#ifdef SWS_WITH_CUDA
  std::string why;
  Backend* cuda = cuda_backend_or_null(&why);
  SWS_CHECK(cuda != nullptr, "device " + device.name() + " requested but no GPU is visible (" + why +
                                 "); use --device cpu");
  SWS_CHECK(device.index == 0, "device " + device.name() + " requested but sws drives only cuda:0; "
                               "choose the GPU with CUDA_VISIBLE_DEVICES and use --device cuda:0");
  return *cuda;
#else
  throw Error("device " + device.name() + " requested but this sws build has no CUDA backend "
              "(configured with SWS_CUDA=OFF or without a CUDA toolkit); use --device cpu");
#endif
}

void register_backend(DeviceType type, Backend* backend) {
  SWS_CHECK(type == DeviceType::CUDA, "register_backend: only the CUDA backend can be registered");
  g_cuda_backend = backend;
}

void Backend::adam_update_many(const std::vector<AdamUpdate>& updates) {
  for (AdamUpdate u : updates) adam_update(u.param, u.grad, u.exp_avg, u.exp_avg_sq, u.step);
}

Backend::GemmSize Backend::gemm_size(bool ta, bool tb, const Tensor& a, const Tensor& b, const Tensor& c) {
  SWS_CHECK(a.dim() == 2 && b.dim() == 2 && c.dim() == 2 && a.dtype() == b.dtype() && a.dtype() == c.dtype(),
            "gemm: " + describe(a) + ", " + describe(b) + " -> " + describe(c));
  const GemmSize size{ta ? a.size(1) : a.size(0), tb ? b.size(0) : b.size(1), ta ? a.size(0) : a.size(1)};
  SWS_CHECK((tb ? b.size(1) : b.size(0)) == size.k && c.size(0) == size.m && c.size(1) == size.n,
            "gemm: shapes do not agree: " + describe(a) + ", " + describe(b) + " -> " + describe(c));
  return size;
}

bool Backend::gemm_without_product(const GemmSize& size, double beta, Tensor& c) {
  if (size.m == 0 || size.n == 0) return true;
  if (size.k != 0) return false;
  if (beta == 0.0)
    fill(c, 0.0);
  else
    affine(c, beta, 0.0, c);
  return true;
}

// --- memory -----------------------------------------------------------------------------------

// Sizes are rounded up to 64 bytes so that blocks of nearly equal size are shared.
static size_t rounded(size_t bytes) { return ((bytes + 63) / 64) * 64 + 64 * (bytes == 0); }

CpuBackend::~CpuBackend() {
  for (void* p : cache_.drain()) std::free(p);
}

void* CpuBackend::allocate(size_t bytes) {
  const size_t size = rounded(bytes);
  if (void* p = cache_.take(size)) return p;
  void* p = std::aligned_alloc(64, size);
  SWS_CHECK(p != nullptr, "out of memory allocating " + std::to_string(bytes) + " bytes");
  cache_.count_system_allocation();
  return p;
}

void CpuBackend::deallocate(void* ptr, size_t bytes) {
  if (ptr) cache_.give(ptr, rounded(bytes));
}

MemoryStats CpuBackend::memory_stats() { return cache_.stats(); }

void CpuBackend::copy_from_host(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }
void CpuBackend::copy_to_host(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }
void CpuBackend::copy_within(void* dst, const void* src, size_t bytes) {
  if (dst != src) std::memcpy(dst, src, bytes);
}

void CpuBackend::make_contiguous(const Tensor& src, Tensor& out) {
  const size_t esize = dtype_size(src.dtype());
  const char* base = static_cast<const char*>(src.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  const Shape& shape = src.shape();
  const Shape& strides = src.strides();
  const int64_t n = src.numel(), dims = src.dim();
  std::vector<int64_t> index(dims, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t offset = 0;
    for (int64_t d = 0; d < dims; ++d) offset += index[d] * strides[d];
    std::memcpy(dst + i * esize, base + offset * esize, esize);
    for (int64_t d = dims - 1; d >= 0; --d) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

// --- elementwise ------------------------------------------------------------------------------

void CpuBackend::fill(Tensor& out, double value) {
  const int64_t n = out.numel();
  auto run = [&](auto* p, auto v) {
    parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) p[i] = v;
    });
  };
  switch (out.dtype()) {
    case DType::F32: run(out.data<float>(), static_cast<float>(value)); break;
    case DType::F64: run(out.data<double>(), value); break;
    case DType::I32: run(out.data<int32_t>(), static_cast<int32_t>(value)); break;
    case DType::I64: run(out.data<int64_t>(), static_cast<int64_t>(value)); break;
    case DType::U8: run(out.data<uint8_t>(), static_cast<uint8_t>(value)); break;
  }
}

template <typename From, typename To>
static void cast_loop(const From* x, To* y, int64_t n) {
  parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = static_cast<To>(x[i]);
  });
}

template <typename From>
static void cast_from(const From* x, Tensor& out, int64_t n) {
  switch (out.dtype()) {
    case DType::F32: cast_loop(x, out.data<float>(), n); break;
    case DType::F64: cast_loop(x, out.data<double>(), n); break;
    case DType::I32: cast_loop(x, out.data<int32_t>(), n); break;
    case DType::I64: cast_loop(x, out.data<int64_t>(), n); break;
    case DType::U8: cast_loop(x, out.data<uint8_t>(), n); break;
  }
}

void CpuBackend::cast(const Tensor& x, Tensor& out) {
  const int64_t n = x.numel();
  switch (x.dtype()) {
    case DType::F32: cast_from(x.data<float>(), out, n); break;
    case DType::F64: cast_from(x.data<double>(), out, n); break;
    case DType::I32: cast_from(x.data<int32_t>(), out, n); break;
    case DType::I64: cast_from(x.data<int64_t>(), out, n); break;
    case DType::U8: cast_from(x.data<uint8_t>(), out, n); break;
  }
}

void CpuBackend::unary(UnaryOp op, const Tensor& x, Tensor& out) {
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "unary", [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    T* y = out.data<T>();
    switch (op) {
      case UnaryOp::Neg:
        parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) y[i] = -a[i];
        });
        break;
      case UnaryOp::Exp:
        parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) y[i] = std::exp(a[i]);
        });
        break;
      case UnaryOp::Log:
        parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) y[i] = std::log(a[i]);
        });
        break;
      case UnaryOp::Sqrt:
        parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) y[i] = std::sqrt(a[i]);
        });
        break;
      case UnaryOp::Relu:
        parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) y[i] = a[i] > T(0) ? a[i] : T(0);
        });
        break;
    }
  });
}

void CpuBackend::binary(BinaryOp op, const Tensor& a_t, const Tensor& b_t, Tensor& out) {
  const int64_t n = a_t.numel();
  dispatch_float(a_t.dtype(), "binary", [&](auto tag) {
    using T = decltype(tag);
    const T* a = a_t.data<T>();
    const T* b = b_t.data<T>();
    T* y = out.data<T>();
    switch (op) {
      case BinaryOp::Add:
        parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) y[i] = a[i] + b[i];
        });
        break;
      case BinaryOp::Sub:
        parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) y[i] = a[i] - b[i];
        });
        break;
      case BinaryOp::Mul:
        parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) y[i] = a[i] * b[i];
        });
        break;
      case BinaryOp::Div:
        parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) y[i] = a[i] / b[i];
        });
        break;
    }
  });
}

void CpuBackend::affine(const Tensor& x, double alpha, double beta, Tensor& out) {
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "affine", [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    T* y = out.data<T>();
    const T al = static_cast<T>(alpha), be = static_cast<T>(beta);
    parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) y[i] = al * a[i] + be;
    });
  });
}

void CpuBackend::axpy(double alpha, const Tensor& x, Tensor& y_t) {
  SWS_CHECK(x.numel() == y_t.numel() && x.dtype() == y_t.dtype(),
            "axpy: " + describe(x) + " into " + describe(y_t));
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "axpy", [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    T* y = y_t.data<T>();
    const T al = static_cast<T>(alpha);
    parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) y[i] += al * a[i];
    });
  });
}

void CpuBackend::relu_backward(const Tensor& grad, const Tensor& y_t, Tensor& out) {
  const int64_t n = grad.numel();
  dispatch_float(grad.dtype(), "relu_backward", [&](auto tag) {
    using T = decltype(tag);
    const T* g = grad.data<T>();
    const T* y = y_t.data<T>();
    T* o = out.data<T>();
    parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const T gi = g[i];  // loaded unconditionally, so that the select vectorises
        o[i] = y[i] > T(0) ? gi : T(0);
      }
    });
  });
}

// --- reductions -------------------------------------------------------------------------------

void CpuBackend::sum(const Tensor& x, Tensor& out) {
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "sum", [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    // Fixed chunks summed in a fixed order: the result does not depend on the thread count.
    constexpr int64_t kChunk = 1 << 14;
    const int64_t chunks = (n + kChunk - 1) / kChunk;
    std::vector<double> partial(chunks, 0.0);
    parallel_for(chunks, chunks > 1, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        double s = 0.0;
        const int64_t end = std::min(n, (c + 1) * kChunk);
        for (int64_t i = c * kChunk; i < end; ++i) s += a[i];
        partial[c] = s;
      }
    });
    double total = 0.0;
    for (double s : partial) total += s;
    out.data<T>()[0] = static_cast<T>(total);
  });
}

void CpuBackend::sum_per_channel(const Tensor& x, Tensor& out) {
  const int64_t batch = x.size(0), channels = x.size(1);
  const int64_t inner = x.numel() / std::max<int64_t>(1, batch * channels);
  dispatch_float(x.dtype(), "sum_per_channel", [&](auto tag) {
    using T = decltype(tag);
    const T* a = x.data<T>();
    T* o = out.data<T>();
    parallel_for(channels, x.numel() >= kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        double s = 0.0;
        for (int64_t b = 0; b < batch; ++b) {  // a short row in T (vectorised), rows in double
          const T* p = a + (b * channels + c) * inner;
          T row = 0;
          for (int64_t i = 0; i < inner; ++i) row += p[i];
          s += row;
        }
        o[c] = static_cast<T>(s);
      }
    });
  });
}

void CpuBackend::add_per_channel(Tensor& x, const Tensor& bias) {
  const int64_t batch = x.size(0), channels = x.size(1);
  const int64_t inner = x.numel() / std::max<int64_t>(1, batch * channels);
  dispatch_float(x.dtype(), "add_per_channel", [&](auto tag) {
    using T = decltype(tag);
    T* a = x.data<T>();
    const T* bs = bias.data<T>();
    parallel_for(batch, x.numel() >= kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b)
        for (int64_t c = 0; c < channels; ++c) {
          T* p = a + (b * channels + c) * inner;
          const T v = bs[c];
          for (int64_t i = 0; i < inner; ++i) p[i] += v;
        }
    });
  });
}

// --- GEMM -------------------------------------------------------------------------------------

// OpenBLAS's OpenMP build starts an OpenMP team for a large GEMM unless the calling thread's
// OpenMP thread count is 1; sws's GEMMs run single-threaded inside pool tasks, so every thread
// that calls the BLAS through sws gets a count of 1 (once, thread by thread).
static void keep_blas_single_threaded() {
  thread_local const bool done = (omp_set_num_threads(1), true);
  (void)done;
}

void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  keep_blas_single_threaded();
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
               int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  keep_blas_single_threaded();
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c, static_cast<blasint>(ldc));
}

// Below this many multiply-adds a GEMM runs as one call (OpenBLAS's own threading threshold).
constexpr int64_t kParallelGemmMacs = 1 << 18;

// A GEMM split into one block of C's columns (or rows) per pool thread, each a single-threaded
// BLAS call; every element of C is still one BLAS dot product over all of k, so the split does
// not change it. Columns when op(A) [m, k] is the smaller operand (each block repacks all of
// op(A) but only its own columns of op(B)), rows otherwise; blocks are multiples of 16 wide.
template <typename T>
static void parallel_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const bool by_columns = m <= n;
  const int64_t extent = by_columns ? n : m, align = 16;
  const int64_t blocks = std::min<int64_t>(pool_threads(), (extent + align - 1) / align);
  if (blocks <= 1 || m * n * k < kParallelGemmMacs) {
    blas_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  parallel_tasks(blocks, [&](int64_t block) {
    auto edge = [&](int64_t i) { return i == blocks ? extent : extent * i / blocks / align * align; };
    const int64_t begin = edge(block), width = edge(block + 1) - begin;
    if (width == 0) return;
    if (by_columns)  // columns [begin, begin + width) of op(B) and C
      blas_gemm(ta, tb, m, width, k, alpha, a, lda, tb ? b + begin * ldb : b + begin, ldb, beta, c + begin, ldc);
    else  // rows [begin, begin + width) of op(A) and C
      blas_gemm(ta, tb, width, n, k, alpha, ta ? a + begin : a + begin * lda, lda, b, ldb, beta, c + begin * ldc, ldc);
  });
}

void CpuBackend::gemm(bool ta, bool tb, double alpha, const Tensor& a, const Tensor& b, double beta,
                      Tensor& c) {
  const GemmSize size = gemm_size(ta, tb, a, b, c);
  if (gemm_without_product(size, beta, c)) return;
  const int64_t m = size.m, n = size.n, k = size.k;
  dispatch_float(a.dtype(), "gemm", [&](auto tag) {
    using T = decltype(tag);
    parallel_gemm(ta, tb, m, n, k, static_cast<T>(alpha), a.data<T>(), a.size(1), b.data<T>(), b.size(1),
                  static_cast<T>(beta), c.data<T>(), n);
  });
}

// --- optimisers -------------------------------------------------------------------------------

// One Adam step over elements [lo, hi) (restrict: the four arrays never overlap, so it vectorises).
template <typename T>
static void adam_range(int64_t lo, int64_t hi, T* __restrict p, const T* __restrict g, T* __restrict m,
                       T* __restrict v, T b1, T b2, T wd, T eps, T step_size, T inv_sqrt_bc2) {
  for (int64_t i = lo; i < hi; ++i) {
    const T gi = g[i] + wd * p[i];
    const T mi = b1 * m[i] + (T(1) - b1) * gi;
    const T vi = b2 * v[i] + (T(1) - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
  }
}

template <typename T>
static void adam_kernel(int64_t n, T* p, const T* g, T* m, T* v, T b1, T b2, T wd, T eps, T step_size,
                        T inv_sqrt_bc2) {
  parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
    adam_range(lo, hi, p, g, m, v, b1, b2, wd, eps, step_size, inv_sqrt_bc2);
  });
}

void CpuBackend::adam_update(Tensor& param, const Tensor& grad, Tensor& exp_avg, Tensor& exp_avg_sq,
                             const AdamStep& s) {
  const double bias_correction1 = 1.0 - std::pow(s.beta1, static_cast<double>(s.step));
  const double bias_correction2 = 1.0 - std::pow(s.beta2, static_cast<double>(s.step));
  dispatch_float(param.dtype(), "adam_update", [&](auto tag) {
    using T = decltype(tag);
    adam_kernel<T>(param.numel(), param.data<T>(), grad.data<T>(), exp_avg.data<T>(), exp_avg_sq.data<T>(),
                   static_cast<T>(s.beta1), static_cast<T>(s.beta2), static_cast<T>(s.weight_decay),
                   static_cast<T>(s.eps), static_cast<T>(s.lr / bias_correction1),
                   static_cast<T>(1.0 / std::sqrt(bias_correction2)));
  });
}

void CpuBackend::sgd_update(Tensor& param, const Tensor& grad, Tensor& buf_t, const SgdStep& s) {
  const int64_t n = param.numel();
  SWS_CHECK(grad.numel() == n && grad.dtype() == param.dtype(),
            "sgd_update: the gradient does not match its parameter in size or dtype");
  SWS_CHECK(s.momentum == 0.0 || (buf_t.numel() == n && buf_t.dtype() == param.dtype()),
            "sgd_update: the momentum buffer does not match its parameter in size or dtype");
  dispatch_float(param.dtype(), "sgd_update", [&](auto tag) {
    using T = decltype(tag);
    T* p = param.data<T>();
    const T* g = grad.data<T>();
    T* buf = buf_t.data<T>();
    const T lr = static_cast<T>(s.lr), mom = static_cast<T>(s.momentum);
    const T wd = static_cast<T>(s.weight_decay);
    const bool use_momentum = s.momentum != 0.0;
    parallel_for(n, n >= kParallelGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const T gi = g[i] + wd * p[i];
        T d = gi;
        if (use_momentum) {
          buf[i] = s.first_step ? gi : mom * buf[i] + gi;
          d = s.nesterov ? gi + mom * buf[i] : buf[i];
        }
        p[i] -= lr * d;
      }
    });
  });
}

}  // namespace sws
