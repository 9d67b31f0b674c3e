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
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// A whole model: the architecture's name, its configuration as ordered key/value pairs (UTF-8,
// unique keys) and the tensors (unique names) in file order.
struct SwsModel {
  std::string architecture;
  std::vector<std::pair<std::string, std::string>> config;
  std::vector<SwsTensor> tensors;
};

// Most distinct non-zero values a tensor may hold (the codebook index is at most 8 bits).
constexpr int kSwsMaxCodebook = 255;

// Encodes a model as the bytes of a .sws file. Throws sws::Error naming the tensor if one holds
// more than kSwsMaxCodebook distinct non-zero values (not quantised), or if a name, shape or
// string breaks the format's rules (docs/FORMAT.md, "Bounds").
std::string encode_sws(const SwsModel& model);

// Decodes the bytes of a .sws file; `what` names the source (a path) in error messages. Throws
// sws::Error on any malformed, truncated, corrupted or hostile input.
SwsModel decode_sws(const uint8_t* data, size_t size, const std::string& what);

// Writes encode_sws(model) to `path` atomically.
void write_sws(const std::string& path, const SwsModel& model);

// Reads and decodes the .sws file at `path` (at most kSwsMaxFileSize bytes).
SwsModel read_sws(const std::string& path);

// Largest file read_sws loads.
constexpr size_t kSwsMaxFileSize = size_t{1} << 30;

// What one tensor costs in a file, measured on its real coded streams.
struct SwsTensorStats {
  std::string name;
  std::vector<int64_t> shape;
  int64_t parameters = 0, nonzeros = 0, distinct = 0;
  double position_bits = 0, value_bits = 0;  // 8 x the bytes of its position / value stream
  // Empirical order-0 bounds: parameters x H2(nonzeros / parameters), and
  // sum over codebook entries k of n_k x log2(nonzeros / n_k).
  double position_entropy_bits = 0, value_entropy_bits = 0;
  int64_t bytes = 0;  // the tensor's whole section: length, header, codebook, streams, CRC
};

struct SwsStats {
  std::vector<SwsTensorStats> tensors;
  int64_t file_bytes = 0, parameters = 0;
};

// Decodes the file (validating it as decode_sws does) and measures every tensor's section.
SwsStats inspect_sws(const uint8_t* data, size_t size, const std::string& what);

}  // namespace sws
