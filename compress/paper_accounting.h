// The compression rate as the paper computes it (after Han et al. 2016; PAPER.md, "How the
// paper counts the compression rate"): per parameter tensor, the non-zeros are stored in
// row-major order as (relative index, codebook index) pairs; a relative index is the gap to
// the previous stored entry in 5 bits (dense layers) or 8 bits (convolutions), and a gap too
// large for that is bridged by filler entries (a stored zero). Gaps and codebook indices are
// Huffman-coded with code lengths from their real counts, and each tensor's codebook of
// distinct non-zero values costs 32 bits per value. Biases are counted like weights. Huffman
// tables are not counted, as in the paper. CR = 32 x parameters / total bits.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace sws {

// Huffman code lengths in bits for symbol counts (0 for unused symbols; a lone symbol gets 1 bit).
std::vector<int> huffman_code_lengths(const std::vector<int64_t>& counts);

// What one tensor costs under the paper's accounting.
struct TensorAccount {
  std::string name;  // the tensor's name
  // Entries; non-zero entries; filler entries inserted for gaps over 2^gap_bits; distinct
  // non-zero values (the codebook's size).
  int64_t parameters = 0, nonzeros = 0, fillers = 0, distinct = 0;
  int gap_bits = 0;  // 5 or 8: the width of a relative index, which covers gaps 1..2^gap_bits
  // Huffman-coded bits of the gaps and of the codebook indices (fillers included), and 32 bits
  // per codebook value.
  int64_t index_bits = 0, value_bits = 0, codebook_bits = 0;
  int64_t total_bits() const { return index_bits + value_bits + codebook_bits; }  // the tensor's cost
};

// The account of one tensor given its values in row-major order; an entry is zero when it
// compares equal to 0.0f (so -0.0 too).
TensorAccount account_tensor(const std::string& name, const std::vector<float>& values, int gap_bits);

// The account of a whole model.
struct PaperAccount {
  std::vector<TensorAccount> tensors;       // one per tensor, in the given order
  int64_t parameters = 0, total_bits = 0;  // sums over the tensors
  // CR = 32 x parameters / total bits (0 when nothing is stored).
  double rate() const { return total_bits ? 32.0 * parameters / total_bits : 0.0; }
};

// Accounts every tensor: 8-bit gaps for 4-D (convolution) weights, 5-bit for the rest.
PaperAccount paper_compression(const NamedTensors& tensors);

}  // namespace sws
