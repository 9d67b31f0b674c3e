// libFuzzer target for decode_sws (compress/sws_format.h). Each input is decoded twice: as it is,
// which mostly exercises the CRC checks, and with every section's CRC recomputed, so that the
// fuzzer reaches the fields, bounds and range decoder behind them. A file that decodes must
// re-encode and decode to the same model, bit for bit. sws::Error is the expected way to fail;
// anything else (a crash, a sanitizer report, another exception) is a finding.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "compress/sws_format.h"
#include "core/error.h"

namespace {

uint32_t le32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

// A section's length field at b[pos]: its value and byte count (a u32 in versions 1 and 2, a
// LEB128 varint in version 3); a byte count of 0 if it does not fit the input.
std::pair<uint64_t, size_t> section_length(const std::string& b, size_t pos, bool varint) {
  if (!varint) return b.size() >= pos + 4 ? std::make_pair(uint64_t{le32(b, pos)}, size_t{4}) : std::make_pair(uint64_t{0}, size_t{0});
  uint64_t v = 0;
  for (size_t i = 0; i < 10 && pos + i < b.size(); ++i) {
    v |= uint64_t{static_cast<uint8_t>(b[pos + i]) & 0x7Fu} << (7 * i);
    if (!(static_cast<uint8_t>(b[pos + i]) & 0x80)) return {v, i + 1};
  }
  return {0, 0};
}

// Rewrites the CRC of every section whose length fits the input (docs/FORMAT.md, "Layout").
void fix_crcs(std::string& b) {
  const bool varint = b.size() >= 8 && le32(b, 4) == 3;
  size_t pos = 8;
  while (true) {
    const auto [length, length_bytes] = section_length(b, pos, varint);
    if (length_bytes == 0 || length > 0xFFFFFFFFu || b.size() - pos - length_bytes < length + 4) break;
    const uint32_t crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(b.data() + pos), static_cast<uInt>(length_bytes + length)));
    for (int i = 0; i < 4; ++i) b[pos + length_bytes + length + i] = static_cast<char>(crc >> (8 * i));
    pos += length_bytes + length + 4;
  }
}

bool same(const sws::SwsModel& a, const sws::SwsModel& b) {
  if (a.architecture != b.architecture || a.config != b.config || a.tensors.size() != b.tensors.size())
    return false;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const auto &x = a.tensors[i], &y = b.tensors[i];
    if (x.name != y.name || x.shape != y.shape || x.values.size() != y.values.size() ||
        (!x.values.empty() && std::memcmp(x.values.data(), y.values.data(), 4 * x.values.size()) != 0))
      return false;
  }
  return true;
}

void decode_and_check(const uint8_t* data, size_t size) {
  sws::SwsModel m;
  try {
    m = sws::decode_sws(data, size, "fuzz input");
  } catch (const sws::Error&) {
    return;
  }
  // Whatever the decoder accepts, the encoder must accept and reproduce, in every version.
  for (uint32_t version : {1u, 2u, 3u}) {
    const std::string again = sws::encode_sws(m, version);
    const sws::SwsModel back =
        sws::decode_sws(reinterpret_cast<const uint8_t*>(again.data()), again.size(), "re-encoded fuzz input");
    if (!same(m, back)) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  decode_and_check(data, size);
  if (size >= 8) {
    std::string fixed(reinterpret_cast<const char*>(data), size);
    fix_crcs(fixed);
    decode_and_check(reinterpret_cast<const uint8_t*>(fixed.data()), fixed.size());
  }
  return 0;
}
