// libFuzzer target for parse_safetensors (core/safetensors.h). A file that parses must encode and
// parse again to the same tensors and metadata. sws::Error is the expected way to fail; anything
// else (a crash, a sanitizer report, another exception) is a finding.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sws::SafetensorsFile f;
  try {
    f = sws::parse_safetensors(data, size, "fuzz input");
  } catch (const sws::Error&) {
    return 0;
  }
  std::vector<sws::SafetensorsView> views;
  for (const auto& t : f.tensors) views.push_back({t.name, t.dtype, t.shape, t.bytes.data()});
  const std::string again = sws::encode_safetensors(views, f.metadata);
  const sws::SafetensorsFile back =
      sws::parse_safetensors(reinterpret_cast<const uint8_t*>(again.data()), again.size(), "re-encoded");
  if (back.metadata != f.metadata || back.tensors.size() != f.tensors.size()) __builtin_trap();
  for (const auto& t : f.tensors) {
    const sws::SafetensorsEntry* b = back.find(t.name);
    if (!b || b->dtype != t.dtype || b->shape != t.shape || b->bytes != t.bytes) __builtin_trap();
  }
  return 0;
}
