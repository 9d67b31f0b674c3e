#include "core/threads.h"

#include <cblas.h>
#include <omp.h>

#include "core/error.h"

namespace sws {

void set_num_threads(int n) {
  SWS_CHECK(n >= 1, "thread count must be at least 1, got " + std::to_string(n));
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace sws
