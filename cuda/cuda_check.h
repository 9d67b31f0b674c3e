// Checked CUDA, cuBLAS and cuDNN calls: a failure throws sws::Error naming the call as written,
// where it was made and the library's own description of the error, e.g.
//   "CUDA error: cudaMalloc(&p, size) at cuda/cuda_backend.cu:61: out of memory".
// Kernel launches are checked with SWS_CUDA_CHECK_LAUNCH() right after the <<<...>>>.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

#include "core/error.h"

namespace sws::cuda {

// Throws sws::Error("<library> error: <call> at <file>:<line>: <description>").
[[noreturn]] inline void throw_call_failure(const char* library, const char* call, const char* file,
                                            int line, const char* description) {
  throw Error(std::string(library) + " error: " + call + " at " + file + ":" + std::to_string(line) + ": " +
              (description ? description : "unknown error"));
}

// cuBLAS's description of a status (cublasGetStatusString, reached through the lazily opened
// library: see cuda/cuda_backend.cu).
const char* cublas_status_string(cublasStatus_t status);

}  // namespace sws::cuda

#define SWS_CUDA_CHECK(call)                                                                           \
  do {                                                                                                 \
    const cudaError_t sws_status_ = (call);                                                            \
    if (sws_status_ != cudaSuccess)                                                                    \
      ::sws::cuda::throw_call_failure("CUDA", #call, __FILE__, __LINE__, cudaGetErrorString(sws_status_)); \
  } while (0)

#define SWS_CUBLAS_CHECK(call)                                                                         \
  do {                                                                                                 \
    const cublasStatus_t sws_status_ = (call);                                                         \
    if (sws_status_ != CUBLAS_STATUS_SUCCESS)                                                          \
      ::sws::cuda::throw_call_failure("cuBLAS", #call, __FILE__, __LINE__,                             \
                                      ::sws::cuda::cublas_status_string(sws_status_));                \
  } while (0)

#define SWS_CUDNN_CHECK(call)                                                                          \
  do {                                                                                                 \
    const cudnnStatus_t sws_status_ = (call);                                                          \
    if (sws_status_ != CUDNN_STATUS_SUCCESS)                                                           \
      ::sws::cuda::throw_call_failure("cuDNN", #call, __FILE__, __LINE__, cudnnGetErrorString(sws_status_)); \
  } while (0)

// After a kernel launch: a bad launch configuration (or an earlier asynchronous fault) throws.
#define SWS_CUDA_CHECK_LAUNCH() SWS_CUDA_CHECK(cudaGetLastError())
