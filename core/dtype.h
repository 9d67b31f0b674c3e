// Element types a tensor or a file entry can hold. Training runs in F32; F64 exists so that
// gradient checks can use central differences in double precision; I32 holds class labels.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace sws {

// float, double, int32_t, int64_t, uint8_t (I64 and U8 appear in files; no op computes on them).
enum class DType : uint8_t { F32, F64, I32, I64, U8 };

// Bytes per element.
inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::I32: return 4;
    case DType::I64: return 8;
    case DType::U8: return 1;
  }
  return 0;
}

// The safetensors spelling ("F32", "F64", "I32", "I64", "U8").
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::U8: return "U8";
  }
  return "?";
}

// Inverse of dtype_name: sets *out and returns true, or returns false (leaving *out alone) for
// an unknown spelling.
inline bool dtype_from_name(const std::string& s, DType* out) {
  for (DType t : {DType::F32, DType::F64, DType::I32, DType::I64, DType::U8})
    if (s == dtype_name(t)) { *out = t; return true; }
  return false;
}

}  // namespace sws
