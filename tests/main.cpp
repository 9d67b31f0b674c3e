#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "core/blas_kernels.h"

int main(int argc, char** argv) {
  sws::ensure_fast_blas_kernels(argv);
  doctest::Context context(argc, argv);
  return context.run();
}
