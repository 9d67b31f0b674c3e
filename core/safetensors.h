// The safetensors file format: an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
// header, then the raw little-endian data section. The header maps each tensor name to
// {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]} (offsets relative to the start of
// the data section), plus an optional "__metadata__" object of string -> string.
// The reader validates the whole header against the file before trusting any byte of it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace sws {

// A tensor to write: `data` holds numel(shape) * dtype_size(dtype) contiguous bytes.
struct SafetensorsView {
  std::string name;            // unique in the file; "__metadata__" is reserved
  DType dtype;                 // element type
  std::vector<int64_t> shape;  // [] for a scalar
  const void* data;            // not owned; must stay valid until the file is encoded
};

// A tensor read from a file, owning a copy of its bytes.
struct SafetensorsEntry {
  std::string name;            // the header's key
  DType dtype;                 // element type
  std::vector<int64_t> shape;  // [] for a scalar
  std::vector<uint8_t> bytes;  // numel(shape) * dtype_size(dtype) bytes, little-endian
};

// A whole parsed file.
struct SafetensorsFile {
  std::vector<SafetensorsEntry> tensors;        // in data-offset order
  std::map<std::string, std::string> metadata;  // the "__metadata__" object (empty if absent)
  // The tensor called `name`, or nullptr if there is none.
  const SafetensorsEntry* find(const std::string& name) const;
};

// Largest header length a reader accepts (as the reference implementation: 100 MB).
constexpr uint64_t kSafetensorsMaxHeaderSize = 100'000'000;

// Encodes the tensors (laid out contiguously in the given order) and metadata as a whole file.
// Throws sws::Error on a duplicate or reserved name, a negative or overflowing shape, null data
// or a string that is not UTF-8.
std::string encode_safetensors(const std::vector<SafetensorsView>& tensors,
                               const std::map<std::string, std::string>& metadata);

// Writes encode_safetensors(tensors, metadata) to `path` atomically (write_file_atomically).
void write_safetensors(const std::string& path, const std::vector<SafetensorsView>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Parses a whole file held in memory, validating everything (header size and JSON, dtypes,
// shapes, offsets in range, no overlap or gap); throws sws::Error naming `what` on any fault.
SafetensorsFile parse_safetensors(const uint8_t* data, size_t size, const std::string& what);

// Reads (at most 16 GiB) and parses the safetensors file at `path`.
SafetensorsFile read_safetensors(const std::string& path);

}  // namespace sws
