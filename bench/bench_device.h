// The --device flag of the benchmarks: parses it and opens its backend before any work.
#pragma once
#include <cstdio>
#include <exception>
#include <string>

#include "core/backend.h"
#include "core/device.h"

namespace sws {

// Sets `device` from `text` ("cpu", "cuda") and returns 0 when its backend is available; prints
// why not and returns 2 for a bad name, 77 (the skip code) for a device this build or machine
// lacks (a CPU-only build, no GPU).
inline int open_bench_device(const char* bench, const std::string& text, Device& device) {
  try {
    device = parse_device(text);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: --device: %s\n", bench, e.what());
    return 2;
  }
  try {
    backend_for(device);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: --device %s unavailable: %s\n", bench, text.c_str(), e.what());
    return 77;
  }
  return 0;
}

}  // namespace sws
