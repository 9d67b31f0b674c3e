// Helpers shared by the CUDA backend's sources (internal to cuda/): launch sizes, dtype
// dispatch, deterministic block and warp reductions, and per-type math functions.
#pragma once
#include <algorithm>
#include <cstdint>
#include <string>

#include "core/dtype.h"
#include "core/error.h"
#include "core/tensor.h"
#include "cuda/cuda_check.h"

namespace sws::cuda {

// Threads per block of every kernel here (a multiple of 32: the reductions rely on it).
constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

// Blocks for a grid-stride loop over n items, each thread taking about `per_thread` of them;
// at least 1, at most 16384 (4M threads: several times what an H200 holds at once).
inline unsigned blocks_for(int64_t n, int64_t per_thread = 1) {
  const int64_t want = (n + kThreads * per_thread - 1) / (kThreads * per_thread);
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(want, 16384)));
}

// for (i = global thread index; i < n; i += all threads): the loop of every elementwise kernel.
#define SWS_GRID_STRIDE_LOOP(i, n)                                                         \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// Runs the statements with scalar_t = float or double according to dtype; throws for others.
#define SWS_DISPATCH_FLOAT(dtype, op, ...)                                                        \
  do {                                                                                            \
    switch (dtype) {                                                                              \
      case ::sws::DType::F32: {                                                                   \
        using scalar_t = float;                                                                   \
        __VA_ARGS__;                                                                              \
        break;                                                                                    \
      }                                                                                           \
      case ::sws::DType::F64: {                                                                   \
        using scalar_t = double;                                                                  \
        __VA_ARGS__;                                                                              \
        break;                                                                                    \
      }                                                                                           \
      default:                                                                                    \
        throw ::sws::Error(std::string(op) + ": unsupported dtype " + ::sws::dtype_name(dtype) + \
                           " (F32 or F64 only)");                                                 \
    }                                                                                             \
  } while (0)

// Checks that every tensor is on a CUDA device and contiguous (the interface's contract; a CPU
// pointer handed to a kernel would fault far from the cause).
inline void check_operands(const char* op, std::initializer_list<const Tensor*> tensors) {
  for (const Tensor* t : tensors) {
    SWS_CHECK(t->defined() && !t->device().is_cpu() && t->is_contiguous(),
              std::string(op) + ": expected a contiguous CUDA tensor, got " + describe(*t));
  }
}

// Math functions by type: the float versions call the float library functions (expf, ...).
__device__ __forceinline__ float exp_of(float x) { return ::expf(x); }
__device__ __forceinline__ double exp_of(double x) { return ::exp(x); }
__device__ __forceinline__ float log_of(float x) { return ::logf(x); }
__device__ __forceinline__ double log_of(double x) { return ::log(x); }
__device__ __forceinline__ float sqrt_of(float x) { return ::sqrtf(x); }
__device__ __forceinline__ double sqrt_of(double x) { return ::sqrt(x); }

// a * b rounded on its own, never fused into a following add, so that the result does not depend
// on what the compiler contracts.
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul_rn(double a, double b) { return __dmul_rn(a, b); }

// Sum over a warp; every lane gets the total. Fixed butterfly pattern: deterministic.
template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Maximum over a warp; every lane gets it. A NaN anywhere may or may not win (callers that need
// NaN rules handle them themselves).
template <typename T>
__device__ __forceinline__ T warp_max(T v) {
  for (int o = 16; o > 0; o >>= 1) {
    const T other = __shfl_xor_sync(0xffffffffu, v, o);
    v = other > v ? other : v;
  }
  return v;
}

// Sum of v over a block of kThreads threads, in a fixed order; the result is valid in thread 0.
// Every thread of the block must call it; `scratch` is kWarps doubles of shared memory, free
// again when the function returns.
__device__ __forceinline__ double block_sum(double v, double* scratch) {
  v = warp_sum(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  double total = 0.0;
  if (threadIdx.x == 0)
    for (int k = 0; k < kWarps; ++k) total += scratch[k];
  __syncthreads();
  return total;
}

// Adds `count` doubles in a fixed order with one block and writes total / divisor as T to *out.
// The second pass of every two-pass reduction (launch with <<<1, kThreads>>>).
template <typename T>
__global__ void finish_sum_kernel(const double* partial, int64_t count, double divisor, T* out) {
  __shared__ double scratch[kWarps];
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) s += partial[i];
  s = block_sum(s, scratch);
  if (threadIdx.x == 0) out[0] = static_cast<T>(s / divisor);
}

}  // namespace sws::cuda
