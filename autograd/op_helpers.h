// Shared checks for op implementations (internal to autograd/).
#pragma once
#include <string>

#include "core/backend.h"
#include "core/error.h"
#include "core/tensor.h"

namespace sws {

// Throws sws::Error naming `op` unless a is a defined F32 or F64 tensor.
inline void check_float(const Tensor& a, const char* op) {
  SWS_CHECK(a.defined(), std::string(op) + ": undefined input");
  SWS_CHECK(a.dtype() == DType::F32 || a.dtype() == DType::F64,
            std::string(op) + ": needs a floating-point tensor, got " + describe(a));
}

// Throws sws::Error naming `op` and both tensors unless a and b share dtype and device.
inline void check_same_kind(const Tensor& a, const Tensor& b, const char* op) {
  SWS_CHECK(a.dtype() == b.dtype() && a.device() == b.device(),
            std::string(op) + ": inputs " + describe(a) + " and " + describe(b) +
                " differ in dtype or device");
}

}  // namespace sws
