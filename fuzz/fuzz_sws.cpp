// libFuzzer target for decode_sws (compress/sws_format.h). Each input is decoded twice: as it is,
// which mostly exercises the CRC checks, and with every section's CRC recomputed, so that the
// fuzzer reaches the fields, bounds and range decoder behind them. A file that decodes must
// re-encode and decode to the same model, bit for bit. sws::Error is the expected way to fail;
// anything else (a crash, a sanitizer report, another exception) is a finding.
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "compress/sws_format.h"
#include "core/error.h"

namespace {

uint32_t le32(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  return v;
}

// Rewrites the CRC of every section whose length fits the input (docs/FORMAT.md, "Layout").
void fix_crcs(std::string& b) {
  size_t pos = 8;
  while (b.size() >= pos + 4) {
    const uint32_t length = le32(b, pos);
    if (b.size() - pos - 4 < uint64_t{length} + 4) break;
    const uint32_t crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(b.data() + pos), static_cast<uInt>(4 + length)));
    for (int i = 0; i < 4; ++i) b[pos + 4 + length + i] = static_cast<char>(crc >> (8 * i));
    pos += 8 + length;
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
  // Whatever the decoder accepts, the encoder must accept and reproduce.
  const std::string again = sws::encode_sws(m);
  const sws::SwsModel back =
      sws::decode_sws(reinterpret_cast<const uint8_t*>(again.data()), again.size(), "re-encoded fuzz input");
  if (!same(m, back)) __builtin_trap();
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
