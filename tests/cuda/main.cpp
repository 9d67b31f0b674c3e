// The CUDA test suite's entry point: every CUDA backend op against the CPU backend. Without a
// visible GPU it prints why and exits 77, which CTest reports as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "core/cuda_available.h"

int main(int argc, char** argv) {
  std::string why;
  if (!sws::cuda_available(&why)) {
    std::printf("cuda tests skipped: no GPU visible (%s)\n", why.c_str());
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
