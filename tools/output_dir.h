// The output folder of a command: created, tested for writing and for free space before any work,
// so that a run does not train for an hour and then fail to save. Every file inside it is still
// written atomically (core/atomic_file.h), so a disk that fills later costs the newest file only.
#pragma once
#include <cstdint>
#include <string>

namespace sws {

// Bytes a command may hold in its output folder at one moment for a model of `parameters`
// float32 parameters: `float_copies` copies of them (checkpoints, Adam's two moments, the
// temporary of an atomic rewrite), plus `extra_bytes` (figures), plus 1 MiB for the small files.
uint64_t output_bytes_needed(int64_t parameters, int float_copies, uint64_t extra_bytes = 0);

// Free bytes for an unprivileged writer on the file system holding `dir` (statvfs f_bavail).
// Throws sws::Error when the folder cannot be examined.
uint64_t free_bytes(const std::string& dir);

// Creates `dir`, checks that a file can be written there and that at least `bytes_needed` bytes
// are free; throws sws::Error naming the folder and the numbers otherwise. Meant to run before
// any training.
void prepare_out_dir(const std::string& dir, uint64_t bytes_needed);

}  // namespace sws
