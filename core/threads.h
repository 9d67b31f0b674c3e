// The number of CPU threads used by sws's OpenMP kernels and by OpenBLAS (one shared pool).
#pragma once

namespace sws {

// Sets the thread count for both OpenMP loops and OpenBLAS; throws sws::Error unless n >= 1.
void set_num_threads(int n);
// The current thread count (OpenMP's omp_get_max_threads()).
int num_threads();

}  // namespace sws
