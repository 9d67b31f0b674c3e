// Whole-file I/O that never leaves a half-written file behind: writes go to a temporary name in
// the same folder, are fsync()ed and then rename()d over the target, so a crash leaves either the
// old content or the new one. Reads are bounded so that a corrupt or hostile file cannot make us
// allocate without limit.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sws {

// Replaces the file at `path` with `size` bytes from `data`, atomically and durably (temporary
// file path + ".tmp." + pid, fsync, rename, fsync of the folder). Throws sws::Error naming the
// path and the system's reason on any failure, after removing the temporary file. For the crash
// tests, SWS_TEST_KILL_IN_WRITE="SUFFIX:N" kills the process halfway through the N-th write of a
// path ending with SUFFIX.
void write_file_atomically(const std::string& path, const void* data, size_t size);

// Same, for the bytes of a string.
void write_file_atomically(const std::string& path, const std::string& bytes);

// Returns the whole content of the file at `path`. Throws sws::Error if it is missing,
// unreadable, a directory, or larger than `max_size` bytes.
std::vector<uint8_t> read_whole_file(const std::string& path, size_t max_size);

}  // namespace sws
