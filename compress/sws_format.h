// The .sws compressed model file (docs/FORMAT.md): the architecture, its configuration and every
// tensor of a quantised network, each stored as a codebook of its distinct non-zero float32 values
// plus range-coded positions and codebook indices of its non-zeros. Round trips are bit-exact.
// The decoder checks every field against the bytes really there (CRC-32 per section, bounds on
// every count) before it trusts or allocates anything: a bad file is an sws::Error, never a crash.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sws {

// One tensor: a name, a shape ([] for a scalar) and its values in row-major order.
struct SwsTensor {
  std::string name;            // non-empty, unique in the model, at most 65,535 bytes of UTF-8
  std::vector<int64_t> shape;  // rank <= 8, sizes >= 0
  std::vector<float> values;   // numel(shape) values; zero means the bit pattern of +0.0
};

// A whole model: the architecture's name, its configuration as ordered key/value pairs (UTF-8,
// unique keys) and the tensors (unique names) in file order.
struct SwsModel {
  std::string architecture;  // e.g. "lenet5" (nn/models.h names)
  std::vector<std::pair<std::string, std::string>> config;  // non-empty keys, in file order
  std::vector<SwsTensor> tensors;                           // in file order
};

// Most distinct non-zero values (bit patterns, so -0.0 counts) a tensor may hold: the
// codebook's size is one byte.
constexpr int kSwsMaxCodebook = 255;
// The format version the encoder writes by default (docs/FORMAT.md): 3, whose counts, lengths
// and dimensions are varints. Asked for 1 or 2 it writes those (2 only when one codebook shared
// by every tensor makes the file smaller, else 1), for old readers and for tests.
constexpr uint32_t kSwsVersion = 3;

// Encodes a model as the bytes of a .sws file. Throws sws::Error naming the tensor if one holds
// more than kSwsMaxCodebook distinct non-zero values (not quantised), or if a name, shape or
// string breaks the format's rules (docs/FORMAT.md, "Bounds": duplicate or empty names and keys,
// over 65,536 tensors or 4,096 configuration pairs, over 2^31 elements in all).
std::string encode_sws(const SwsModel& model, uint32_t version = kSwsVersion);

// Decodes the bytes of a .sws file; `what` names the source (a path) in error messages. Throws
// sws::Error on any malformed, truncated, corrupted or hostile input.
SwsModel decode_sws(const uint8_t* data, size_t size, const std::string& what);

// Writes encode_sws(model) to `path` atomically (write_file_atomically).
void write_sws(const std::string& path, const SwsModel& model);

// Reads and decodes the .sws file at `path` (at most kSwsMaxFileSize bytes).
SwsModel read_sws(const std::string& path);

// Largest file read_sws loads, in bytes (1 GiB).
constexpr size_t kSwsMaxFileSize = size_t{1} << 30;

// What one tensor costs in a file, measured on its real coded streams.
struct SwsTensorStats {
  std::string name;            // the tensor's name
  std::vector<int64_t> shape;  // its shape
  int64_t parameters = 0, nonzeros = 0, distinct = 0;  // entries, non-zeros, codebook size
  double position_bits = 0, value_bits = 0;  // 8 x the bytes of its position / value stream
  // Empirical order-0 bounds: parameters x H2(nonzeros / parameters), and
  // sum over codebook entries k of n_k x log2(nonzeros / n_k).
  double position_entropy_bits = 0, value_entropy_bits = 0;
  int64_t bytes = 0;  // the tensor's whole section: length, header, codebook, streams, CRC
};

// What a whole file costs.
struct SwsStats {
  std::vector<SwsTensorStats> tensors;     // in file order
  int64_t file_bytes = 0, parameters = 0;  // the file's size; entries over all tensors
};

// Decodes the file (validating it and throwing as decode_sws does) and measures every tensor's
// section.
SwsStats inspect_sws(const uint8_t* data, size_t size, const std::string& what);

}  // namespace sws
