// How one tensor of a .sws file is coded (docs/FORMAT.md, "Coding a tensor"): a codebook of its
// distinct non-zero float32 bit patterns, a range-coded stream of where its non-zeros are, and a
// range-coded stream of which codebook entry each one holds. The container (sws_format.cpp)
// frames and checks these; this file holds the probability models, shared by both directions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sws {

// The matrix a tensor is viewed as: rows = shape[0] and cols = numel / rows for rank >= 2; one
// row for a scalar or a 1-D tensor. In a layer's weight, a row is an output unit and a column an
// input (times the kernel's positions): the units pruning kills make whole rows and columns zero.
struct Grid {
  int64_t rows = 0, cols = 0;
};
Grid grid_of(const std::vector<int64_t>& shape);

struct CodedTensor {
  std::vector<uint32_t> codebook;  // distinct non-zero bit patterns, most frequent first
  int64_t nonzeros = 0;
  std::string positions, values;  // the two range-coded streams
};

// Codes `numel` float32 values (row-major, viewed as `grid`). A value is zero iff its bit pattern
// is 0x00000000. If there are more than `max_codebook` distinct non-zero patterns, returns only
// the codebook (for the caller's error message) and codes nothing.
CodedTensor code_tensor(const float* values, uint64_t numel, Grid grid, size_t max_codebook = 255);

// The inverse: the `numel` values of a tensor from its streams. Throws sws::Error naming `where`
// if the streams are inconsistent with the declared counts (a corrupt or hostile file).
std::vector<float> decode_coded_tensor(const uint8_t* positions, size_t position_bytes, const uint8_t* values,
                                       size_t value_bytes, const std::vector<uint32_t>& codebook,
                                       uint64_t nonzeros, uint64_t numel, Grid grid,
                                       const std::string& where);

}  // namespace sws
