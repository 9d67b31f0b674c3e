#include "compress/sws_format.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <unordered_map>

#include "compress/range_coder.h"
#include "compress/sws_tensor_coder.h"
#include "core/atomic_file.h"
#include "core/error.h"

namespace sws {
namespace {

// docs/FORMAT.md, "Layout" and "Bounds".
constexpr uint8_t kMagic[4] = {0x89, 'S', 'W', 'S'};
// Version 2 adds one codebook shared by every tensor (a tensor then lists indices into it);
// version 3 writes every count, length and dimension as a LEB128 varint (most fit one or two
// bytes instead of four or eight) and always has the shared codebook's size (0: none). The
// encoder writes version 3 by default; asked for 2 it writes 2 when sharing makes the file
// smaller, else 1; asked for 1, version 1. All three are read.
constexpr uint32_t kVersion = 1, kSharedCodebookVersion = 2, kCompactVersion = 3;
constexpr size_t kMaxVarintBytes = 10;  // a u64 in 7-bit groups
constexpr size_t kMaxString = 65535;  // u16 length prefix
constexpr uint32_t kMaxConfigPairs = 4096;
constexpr uint32_t kMaxTensors = 65536;
constexpr uint32_t kMaxRank = 8;
constexpr uint64_t kMaxTotalElements = uint64_t{1} << 31;
// A file may declare at most kFreeElements + kElementsPerByte x (file size) elements in all, so
// that a small hostile file cannot make the decoder allocate gigabytes; an encoder pads a file
// (in its header) that would otherwise be too small for its element count.
constexpr uint64_t kFreeElements = uint64_t{1} << 16, kElementsPerByte = 4096;
// The smallest tensor section: length, a 1-byte name, rank, codebook size, the non-zero count,
// the two stream lengths and the CRC (fixed-width integers, versions 1 and 2; varints, 3).
constexpr size_t kMinTensorSection = 4 + 2 + 1 + 1 + 1 + 4 + 4 + 4 + 4;
constexpr size_t kMinCompactTensorSection = 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 4;

uint64_t element_budget(uint64_t file_size) {
  return std::min(kMaxTotalElements, kFreeElements + kElementsPerByte * file_size);
}

// ---------------------------------------------------------------- writing

// `width` bytes, little-endian.
void put_le(std::string& s, uint64_t v, int width) {
  for (int i = 0; i < width; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
}
void put_u8(std::string& s, uint8_t v) { put_le(s, v, 1); }
void put_u32(std::string& s, uint32_t v) { put_le(s, v, 4); }
// LEB128: 7 bits per byte, least significant group first, the high bit set on all but the last.
void put_varint(std::string& s, uint64_t v) {
  while (v >= 0x80) {
    s.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  s.push_back(static_cast<char>(v));
}
// A count, length or dimension: `width` bytes little-endian (versions 1 and 2) or a varint (3).
void put_number(std::string& s, uint64_t v, int width, bool compact) {
  compact ? put_varint(s, v) : put_le(s, v, width);
}

uint32_t crc32_of(const uint8_t* p, size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {  // zlib takes uInt lengths
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk, n -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

// Appends a section: the payload length (u32, or a varint in version 3), the payload, and the
// CRC-32 of both.
void put_section(std::string& file, const std::string& payload, bool compact) {
  SWS_CHECK(payload.size() <= 0xFFFFFFFFu, "encode_sws: a section of " + std::to_string(payload.size()) +
                                               " bytes is larger than the format's 4 GiB limit");
  const size_t start = file.size();
  put_number(file, payload.size(), 4, compact);
  file += payload;
  put_u32(file, crc32_of(reinterpret_cast<const uint8_t*>(file.data()) + start, file.size() - start));
}

// True if s is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(const uint8_t* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    const uint8_t c = s[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    const uint32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

void put_string(std::string& s, const std::string& v, const std::string& field, bool compact) {
  SWS_CHECK(v.size() <= kMaxString, "encode_sws: " + field + " is " + std::to_string(v.size()) +
                                        " bytes long; the format allows at most " +
                                        std::to_string(kMaxString));
  SWS_CHECK(valid_utf8(reinterpret_cast<const uint8_t*>(v.data()), v.size()),
            "encode_sws: " + field + " is not valid UTF-8");
  put_number(s, v.size(), 2, compact);
  s += v;
}

// Reads a varint from p[0..size) into v; returns its byte count, or 0 if it is cut off by the end,
// longer than 10 bytes, not minimal (a last byte of 0 after others) or past 64 bits.
size_t read_varint(const uint8_t* p, size_t size, uint64_t& v) {
  v = 0;
  for (size_t i = 0; i < std::min(size, kMaxVarintBytes); ++i) {
    const uint64_t group = p[i] & 0x7F;
    if (i == kMaxVarintBytes - 1 && group > 1) return 0;  // bits past the 64th
    v |= group << (7 * i);
    if (!(p[i] & 0x80)) return (i > 0 && p[i] == 0) ? 0 : i + 1;
  }
  return 0;
}

// ---------------------------------------------------------------- reading

// A bounded little-endian reader over one section's payload. Every read is checked against the
// bytes left; a failure names the file, the section and the field.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, std::string where, bool compact)
      : p_(data), size_(size), where_(std::move(where)), compact_(compact) {}

  [[noreturn]] void fail(const std::string& message) const {
    throw Error(where_ + ": " + message + "; the file is corrupt or not a .sws file");
  }
  const std::string& where() const { return where_; }
  size_t left() const { return size_ - pos_; }

  const uint8_t* bytes(size_t n, const char* field) {
    if (n > left())
      fail(std::string(field) + " needs " + std::to_string(n) + " bytes but the section has only " +
           std::to_string(left()) + " left");
    const uint8_t* at = p_ + pos_;
    pos_ += n;
    return at;
  }
  uint64_t uint(int width, const char* field) {
    const uint8_t* b = bytes(static_cast<size_t>(width), field);
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | b[i];
    return v;
  }
  uint8_t u8(const char* field) { return static_cast<uint8_t>(uint(1, field)); }
  uint32_t u32(const char* field) { return static_cast<uint32_t>(uint(4, field)); }
  // A count, length or dimension: `width` bytes (versions 1 and 2), or a minimal varint whose
  // value fits those bytes (version 3).
  uint64_t number(int width, const char* field) {
    if (!compact_) return uint(width, field);
    uint64_t v = 0;
    const size_t n = read_varint(p_ + pos_, left(), v);
    if (n == 0)
      fail(std::string(field) + " is not a valid varint (cut off by the section's end, over 10 bytes, "
           "not minimal, or past 64 bits)");
    if (width < 8 && v >> (8 * width))
      fail(std::string(field) + " is " + std::to_string(v) + ", more than " + std::to_string(8 * width) + " bits");
    pos_ += n;
    return v;
  }
  std::string str(const char* field) {
    const uint16_t n = static_cast<uint16_t>(number(2, field));
    const uint8_t* b = bytes(n, field);
    if (!valid_utf8(b, n)) fail(std::string(field) + " is not valid UTF-8");
    return std::string(reinterpret_cast<const char*>(b), n);
  }
  void expect_end() const {
    if (left() != 0) fail(std::to_string(left()) + " unexpected bytes at the end of the section");
  }

 private:
  const uint8_t* p_;
  size_t size_, pos_ = 0;
  std::string where_;
  bool compact_;
};

// Checks the section at data[pos] (length, payload, CRC) and returns a cursor over its payload.
Cursor open_section(const uint8_t* data, size_t size, size_t& pos, const std::string& what,
                    const std::string& where, bool compact) {
  const auto fail = [&](const std::string& m) { throw Error(what + ": " + where + " section " + m); };
  uint64_t length = 0;
  size_t length_bytes = 4;
  if (compact) {
    length_bytes = read_varint(data + pos, size - pos, length);
    if (length_bytes == 0)
      fail("starting at byte " + std::to_string(pos) + " has no valid varint length (the file ends, or it is "
           "over 10 bytes, not minimal or past 64 bits); the file is truncated or corrupt");
    if (length > 0xFFFFFFFFu) fail("declares " + std::to_string(length) + " bytes, more than 4 GiB");
  } else {
    if (size - pos < 4)
      fail("starts at byte " + std::to_string(pos) + " but the file ends " + std::to_string(size - pos) +
           " bytes later; the file is truncated");
    for (int i = 3; i >= 0; --i) length = (length << 8) | data[pos + i];
  }
  if (size - pos - length_bytes < length + 4)
    fail("declares " + std::to_string(length) + " bytes (plus 4 of CRC) but only " +
         std::to_string(size - pos - length_bytes) + " remain; the file is truncated or corrupt");
  const size_t crc_at = pos + length_bytes + length;
  uint32_t stored = 0;
  for (int i = 3; i >= 0; --i) stored = (stored << 8) | data[crc_at + i];
  if (crc32_of(data + pos, length_bytes + length) != stored)
    fail("(bytes " + std::to_string(pos) + ".." + std::to_string(crc_at + 3) +
         ") fails its CRC-32 check; the file is corrupt");
  Cursor c(data + pos + length_bytes, length, what + ": " + where, compact);
  pos = crc_at + 4;
  return c;
}

// ---------------------------------------------------------------- tensors

std::string describe_shape(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Checks a tensor against the format's rules, adds its elements to `total_elements` and codes it.
CodedTensor code_checked_tensor(const SwsTensor& t, uint64_t& total_elements) {
  const std::string who = "encode_sws: tensor '" + t.name + "'";
  SWS_CHECK(!t.name.empty(), "encode_sws: a tensor has an empty name; every tensor needs a unique name");
  SWS_CHECK(t.shape.size() <= kMaxRank, who + " has rank " + std::to_string(t.shape.size()) +
                                            "; the format allows at most " + std::to_string(kMaxRank));
  uint64_t numel = 1;
  for (int64_t d : t.shape) {
    SWS_CHECK(d >= 0, who + " has a negative size in its shape " + describe_shape(t.shape));
    const std::string too_large =
        who + ": shape " + describe_shape(t.shape) + " has more than 2^31 elements, the format's limit";
    // Both factors are at most 2^31 when multiplied, so the product cannot overflow.
    SWS_CHECK(static_cast<uint64_t>(d) <= kMaxTotalElements, too_large);
    numel *= static_cast<uint64_t>(d);
    SWS_CHECK(numel <= kMaxTotalElements, too_large);
  }
  SWS_CHECK(numel == t.values.size(), who + " has shape " + describe_shape(t.shape) + " (" +
                                          std::to_string(numel) + " elements) but " +
                                          std::to_string(t.values.size()) + " values");
  total_elements += numel;
  SWS_CHECK(total_elements <= kMaxTotalElements,
            "encode_sws: the model has more than 2^31 elements in all, the format's limit");

  CodedTensor coded = code_tensor(t.values.data(), numel, grid_of(t.shape));
  if (coded.codebook.size() > static_cast<size_t>(kSwsMaxCodebook))
    throw Error("encode_sws: not quantised: tensor '" + t.name + "' has " +
                std::to_string(coded.codebook.size()) + " distinct values (at most " +
                std::to_string(kSwsMaxCodebook) + " non-zero ones fit a .sws file); run sws quantize first");
  return coded;
}

// The payload of one tensor's section: its own codebook (u32 patterns), or with a shared one
// (`shared_index` non-empty: pattern -> index) the indices of its entries (u8 each).
std::string encode_tensor(const SwsTensor& t, const CodedTensor& coded,
                          const std::unordered_map<uint32_t, uint8_t>& shared_index, bool compact) {
  std::string s;
  put_string(s, t.name, "tensor name '" + t.name + "'", compact);
  put_u8(s, static_cast<uint8_t>(t.shape.size()));
  for (int64_t d : t.shape) put_number(s, static_cast<uint64_t>(d), 8, compact);
  put_u8(s, static_cast<uint8_t>(coded.codebook.size()));
  for (uint32_t bits : coded.codebook)
    shared_index.empty() ? put_u32(s, bits) : put_u8(s, shared_index.at(bits));
  put_number(s, static_cast<uint64_t>(coded.nonzeros), 4, compact);
  put_number(s, coded.positions.size(), 4, compact);
  s += coded.positions;
  put_number(s, coded.values.size(), 4, compact);
  s += coded.values;
  return s;
}

struct DecodeState {
  const std::string& what;
  uint64_t budget;              // elements the file may still declare
  std::set<std::string> names;  // seen so far
  std::vector<uint32_t> shared;  // version 2's shared codebook (empty: every tensor has its own)
  std::vector<bool> shared_used;  // which of its entries some tensor refers to
};

SwsTensor decode_tensor(Cursor& c, DecodeState& st, SwsTensorStats* stats) {
  SwsTensor t;
  t.name = c.str("tensor name");
  if (t.name.empty()) c.fail("tensor name is empty");
  if (!st.names.insert(t.name).second) c.fail("tensor name '" + t.name + "' appears twice");
  const std::string who = "tensor '" + t.name + "'";
  const uint8_t rank = c.u8("rank");
  if (rank > kMaxRank)
    c.fail(who + " has rank " + std::to_string(rank) + " (at most " + std::to_string(kMaxRank) + ")");
  uint64_t numel = 1;
  for (uint8_t i = 0; i < rank; ++i) {
    const uint64_t d = c.number(8, "dimension");
    if (d > kMaxTotalElements) c.fail(who + " has a dimension of " + std::to_string(d) + " (at most 2^31)");
    numel *= d;  // both factors <= 2^31 and the product is checked below before growing further
    if (numel > kMaxTotalElements) c.fail(who + " declares more than 2^31 elements");
    t.shape.push_back(static_cast<int64_t>(d));
  }
  if (numel > st.budget)
    c.fail(who + " declares " + std::to_string(numel) +
           " elements, more than a file of this size may hold (" + std::to_string(st.budget) +
           " left of the " + std::to_string(kFreeElements) + " + " + std::to_string(kElementsPerByte) +
           " per file byte allowed, at most 2^31)");
  st.budget -= numel;

  const uint8_t distinct = c.u8("codebook size");
  if (distinct > kSwsMaxCodebook) c.fail(who + " has a codebook of " + std::to_string(distinct) + " values");
  std::vector<uint32_t> codebook(distinct);
  std::set<uint32_t> seen;
  for (auto& bits : codebook) {
    if (!st.shared.empty()) {
      const uint8_t index = c.u8("shared codebook index");
      if (index >= st.shared.size())
        c.fail(who + " refers to shared codebook entry " + std::to_string(index) + " of " +
               std::to_string(st.shared.size()));
      bits = st.shared[index];
      st.shared_used[index] = true;
    } else {
      bits = c.u32("codebook value");
      if (bits == 0) c.fail(who + ": its codebook holds +0.0, which is never stored");
    }
    if (!seen.insert(bits).second) c.fail(who + ": its codebook holds a value twice");
  }
  const uint32_t nonzeros = static_cast<uint32_t>(c.number(4, "non-zero count"));
  if (nonzeros > numel)
    c.fail(who + " declares " + std::to_string(nonzeros) + " non-zeros in " + std::to_string(numel) +
           " elements");
  if ((nonzeros == 0) != (distinct == 0) || distinct > nonzeros)
    c.fail(who + " has " + std::to_string(nonzeros) + " non-zeros but " + std::to_string(distinct) +
           " codebook values");
  const uint32_t position_bytes = static_cast<uint32_t>(c.number(4, "position stream length"));
  const uint8_t* positions = c.bytes(position_bytes, "position stream");
  const uint32_t value_bytes = static_cast<uint32_t>(c.number(4, "value stream length"));
  const uint8_t* values = c.bytes(value_bytes, "value stream");
  c.expect_end();

  t.values = decode_coded_tensor(positions, position_bytes, values, value_bytes, codebook, nonzeros, numel,
                                 grid_of(t.shape), c.where());
  if (stats) {
    stats->name = t.name;
    stats->shape = t.shape;
    stats->parameters = static_cast<int64_t>(numel);
    stats->nonzeros = nonzeros;
    stats->distinct = distinct;
    stats->position_bits = 8.0 * position_bytes;
    stats->value_bits = 8.0 * value_bytes;
    const double n = static_cast<double>(numel), k = nonzeros;
    if (k > 0 && k < n)
      stats->position_entropy_bits = -(k * std::log2(k / n) + (n - k) * std::log2((n - k) / n));
    std::unordered_map<uint32_t, int64_t> counts;
    for (float v : t.values) {
      uint32_t bits;
      std::memcpy(&bits, &v, 4);
      if (bits) ++counts[bits];
    }
    for (const auto& kv : counts) stats->value_entropy_bits += kv.second * std::log2(k / kv.second);
  }
  return t;
}

SwsModel decode(const uint8_t* data, size_t size, const std::string& what, SwsStats* stats) {
  SWS_CHECK(data != nullptr || size == 0, what + ": no data");
  SWS_CHECK(size >= 8 && std::memcmp(data, kMagic, 4) == 0,
            what + ": not a .sws file (it does not start with the bytes 89 53 57 53, \"\\x89SWS\")");
  const uint32_t version = data[4] | data[5] << 8 | data[6] << 16 | uint32_t{data[7]} << 24;
  SWS_CHECK(version >= kVersion && version <= kCompactVersion,
            what + ": .sws format version " + std::to_string(version) + " is not supported (this build reads versions " +
                std::to_string(kVersion) + " to " + std::to_string(kCompactVersion) + "); use a newer sws");
  const bool compact = version == kCompactVersion;
  size_t pos = 8;
  DecodeState st{what, element_budget(size), {}, {}, {}};
  SwsModel m;
  Cursor h = open_section(data, size, pos, what, "header", compact);
  m.architecture = h.str("architecture");
  const uint32_t pairs = static_cast<uint32_t>(h.number(4, "configuration count"));
  if (pairs > kMaxConfigPairs || pairs > h.left() / (compact ? 2 : 4))
    h.fail("configuration count " + std::to_string(pairs) + " is more than the section can hold");
  std::set<std::string> keys;
  for (uint32_t i = 0; i < pairs; ++i) {
    std::string key = h.str("configuration key");
    if (key.empty()) h.fail("a configuration key is empty");
    if (!keys.insert(key).second) h.fail("configuration key '" + key + "' appears twice");
    m.config.emplace_back(std::move(key), h.str("configuration value"));
  }
  const uint32_t count = static_cast<uint32_t>(h.number(4, "tensor count"));
  if (count > kMaxTensors || count > (size - pos) / (compact ? kMinCompactTensorSection : kMinTensorSection))
    h.fail("tensor count " + std::to_string(count) + " is more than the " + std::to_string(size - pos) +
           " bytes after the header can hold (at most " + std::to_string(kMaxTensors) + ")");
  if (version >= kSharedCodebookVersion) {
    const uint8_t shared = h.u8("shared codebook size");  // version 3: 0 when there is none
    if (shared == 0 && !compact) h.fail("a version 2 file has an empty shared codebook (version 1 has none)");
    std::set<uint32_t> seen;
    for (uint8_t i = 0; i < shared; ++i) {
      const uint32_t bits = h.u32("shared codebook value");
      if (bits == 0) h.fail("the shared codebook holds +0.0, which is never stored");
      if (!seen.insert(bits).second) h.fail("the shared codebook holds a value twice");
      st.shared.push_back(bits);
    }
    st.shared_used.assign(shared, false);
  }
  const uint32_t padding = static_cast<uint32_t>(h.number(4, "padding length"));
  const uint8_t* pad = h.bytes(padding, "padding");
  for (uint32_t i = 0; i < padding; ++i)
    if (pad[i] != 0) h.fail("padding byte " + std::to_string(i) + " is not zero");
  h.expect_end();

  m.tensors.reserve(count);
  if (stats) stats->tensors.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    const size_t start = pos;
    Cursor c = open_section(data, size, pos, what, "tensor section " + std::to_string(i), compact);
    m.tensors.push_back(decode_tensor(c, st, stats ? &stats->tensors[i] : nullptr));
    if (stats) {
      stats->tensors[i].bytes = static_cast<int64_t>(pos - start);
      stats->parameters += stats->tensors[i].parameters;
    }
  }
  SWS_CHECK(pos == size, what + ": " + std::to_string(size - pos) +
                             " unexpected bytes after the last of the " + std::to_string(count) +
                             " tensor sections; the file is corrupt");
  for (size_t i = 0; i < st.shared_used.size(); ++i)
    SWS_CHECK(st.shared_used[i], what + ": shared codebook entry " + std::to_string(i) +
                                     " is used by no tensor; the file is corrupt");
  if (stats) stats->file_bytes = static_cast<int64_t>(size);
  return m;
}

}  // namespace

std::string encode_sws(const SwsModel& model, uint32_t version) {
  SWS_CHECK(version >= kVersion && version <= kCompactVersion,
            "encode_sws: format version " + std::to_string(version) + " does not exist (1 to 3)");
  SWS_CHECK(model.config.size() <= kMaxConfigPairs, "encode_sws: " + std::to_string(model.config.size()) +
                                                        " configuration pairs (at most " +
                                                        std::to_string(kMaxConfigPairs) + ")");
  SWS_CHECK(model.tensors.size() <= kMaxTensors, "encode_sws: " + std::to_string(model.tensors.size()) +
                                                     " tensors (at most " + std::to_string(kMaxTensors) +
                                                     ")");
  std::set<std::string> names, keys;
  for (const auto& t : model.tensors)
    SWS_CHECK(names.insert(t.name).second, "encode_sws: two tensors are named '" + t.name + "'");
  for (const auto& [key, value] : model.config) {
    SWS_CHECK(!key.empty(), "encode_sws: a configuration key is empty");
    SWS_CHECK(keys.insert(key).second, "encode_sws: configuration key '" + key + "' appears twice");
  }
  uint64_t total_elements = 0;
  std::vector<CodedTensor> coded;
  for (const auto& t : model.tensors) coded.push_back(code_checked_tensor(t, total_elements));
  // One shared codebook (versions 2 and 3) when the union of the tensors' codebooks fits one and
  // costs less than their own: 4 bytes per shared value and 1 per tensor entry, against 4 per entry.
  std::unordered_map<uint32_t, int64_t> uses;  // pattern -> how many tensors use it
  size_t own_entries = 0;
  for (size_t i = 0; i < coded.size(); ++i) {
    own_entries += coded[i].codebook.size();
    for (uint32_t bits : coded[i].codebook) uses[bits] += 1;
  }
  std::vector<uint32_t> shared;
  std::unordered_map<uint32_t, uint8_t> shared_index;
  // (Version 3 writes the shared size byte either way: it costs nothing extra there.)
  const size_t size_byte = version == kSharedCodebookVersion ? 1 : 0;
  if (version >= kSharedCodebookVersion && uses.size() <= static_cast<size_t>(kSwsMaxCodebook) &&
      size_byte + 4 * uses.size() + own_entries < 4 * own_entries) {
    for (const auto& kv : uses) shared.push_back(kv.first);
    // Used by most tensors first, ties by the smaller pattern: a deterministic order.
    std::sort(shared.begin(), shared.end(), [&](uint32_t a, uint32_t b) {
      return uses[a] != uses[b] ? uses[a] > uses[b] : a < b;
    });
    for (size_t i = 0; i < shared.size(); ++i) shared_index[shared[i]] = static_cast<uint8_t>(i);
  }
  // Version 2 only when it shares; version 3 whenever asked for (its varints are longer than the
  // fixed widths only for counts or lengths past 2^28 and strings past 16 KB).
  if (version == kSharedCodebookVersion && shared.empty()) version = kVersion;
  const bool compact = version == kCompactVersion;
  std::string body;
  for (size_t i = 0; i < coded.size(); ++i)
    put_section(body, encode_tensor(model.tensors[i], coded[i], shared_index, compact), compact);

  const auto file_with_padding = [&](uint64_t padding) {
    std::string header;
    put_string(header, model.architecture, "the architecture name", compact);
    put_number(header, model.config.size(), 4, compact);
    for (const auto& [key, value] : model.config) {
      put_string(header, key, "configuration key '" + key + "'", compact);
      put_string(header, value, "the value of configuration key '" + key + "'", compact);
    }
    put_number(header, model.tensors.size(), 4, compact);
    if (version >= kSharedCodebookVersion) {
      put_u8(header, static_cast<uint8_t>(shared.size()));
      for (uint32_t bits : shared) put_u32(header, bits);
    }
    put_number(header, padding, 4, compact);
    header.append(padding, '\0');
    std::string file(reinterpret_cast<const char*>(kMagic), 4);
    put_u32(file, version);
    put_section(file, header, compact);
    return file + body;
  };
  // Pad the file up to the size the decoder's element budget asks for (FORMAT.md, "Bounds");
  // only models of over 65,536 elements that compress below ~0.002 bits per element need it.
  std::string file = file_with_padding(0);
  if (total_elements > kFreeElements) {
    const uint64_t need = (total_elements - kFreeElements + kElementsPerByte - 1) / kElementsPerByte;
    // With varints the padding's own length field and the section's may grow by a few bytes:
    // the file only gets longer, and longer is allowed.
    if (need > file.size()) file = file_with_padding(need - file.size());
  }
  return file;
}

SwsModel decode_sws(const uint8_t* data, size_t size, const std::string& what) {
  return decode(data, size, what, nullptr);
}

SwsStats inspect_sws(const uint8_t* data, size_t size, const std::string& what) {
  SwsStats stats;
  decode(data, size, what, &stats);
  return stats;
}

void write_sws(const std::string& path, const SwsModel& model) {
  write_file_atomically(path, encode_sws(model));
}

SwsModel read_sws(const std::string& path) {
  const std::vector<uint8_t> bytes = read_whole_file(path, kSwsMaxFileSize);
  return decode_sws(bytes.data(), bytes.size(), path);
}

}  // namespace sws
