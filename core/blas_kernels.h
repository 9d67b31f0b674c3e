// OpenBLAS 0.3.21 (Debian 12) does not recognise recent Xeons (Sapphire Rapids and later) and
// falls back to its generic SSE3 "Prescott" kernels, 2-3x slower than its AVX-512 ones. The
// kernel set is chosen when the library loads, from OPENBLAS_CORETYPE, so the only fix from
// inside a program is to set that variable and start again.
#pragma once

namespace sws {

// If OpenBLAS chose Prescott on a CPU with AVX-512 (or AVX2), re-executes this program with
// OPENBLAS_CORETYPE=SkylakeX (or Haswell). Does nothing when OPENBLAS_CORETYPE is already set,
// so a user can always force a choice. Call first thing in main().
void ensure_fast_blas_kernels(char** argv);

// The kernel set OpenBLAS is using ("SkylakeX", "Haswell", "Prescott", ...).
const char* blas_kernel_name();

// OpenBLAS's own thread count: 1 once sws's thread pool has started (core/thread_pool.h), since
// sws splits GEMMs over its own threads and runs the BLAS single-threaded inside them.
int blas_thread_count();

}  // namespace sws
