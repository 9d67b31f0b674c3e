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
  int64_t rows = 0, cols = 0;  // rows x cols = the tensor's element count
};
// The grid of a tensor of this shape (sizes are not checked: the caller has validated them).
Grid grid_of(const std::vector<int64_t>& shape);

// One coded tensor: what the container stores besides the name and shape.
struct CodedTensor {
  std::vector<uint32_t> codebook;  // distinct non-zero bit patterns, most frequent first (ties: lower first)
  int64_t nonzeros = 0;            // entries whose bit pattern is not 0
  // The two range-coded streams: positions is empty when there is no zero or no non-zero;
  // values is empty when the codebook has at most one entry.
  std::string positions, values;
};

// Codes `numel` float32 values (row-major, viewed as `grid`). A value is zero iff its bit pattern
// is 0x00000000. If there are more than `max_codebook` distinct non-zero patterns, returns only
// the codebook (for the caller's error message) and codes nothing. grid.rows x grid.cols must
// equal numel (not checked).
CodedTensor code_tensor(const float* values, uint64_t numel, Grid grid, size_t max_codebook = 255);

// The inverse: the `numel` values of a tensor from its streams. Throws sws::Error naming `where`
// if the streams are inconsistent with the declared counts or codebook (a corrupt or hostile
// file): wrong number of non-zeros, an index out of range, an unused codebook value, bytes left
// over or a stream that the encoder could not have written.
std::vector<float> decode_coded_tensor(const uint8_t* positions, size_t position_bytes, const uint8_t* values,
                                       size_t value_bytes, const std::vector<uint32_t>& codebook,
                                       uint64_t nonzeros, uint64_t numel, Grid grid,
                                       const std::string& where);

}  // namespace sws
