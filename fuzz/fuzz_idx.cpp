// libFuzzer target for the MNIST IDX reader (core/mnist.h). The reader only takes paths, so each
// input goes through a file in the temp folder (raw or gzip: the reader accepts both) and is read
// as an image file and as a label file. An in-memory entry point, e.g.
//   IdxImages parse_idx_images(const uint8_t* data, size_t size, const std::string& what);
// would make this target faster and need no file. sws::Error is the expected way to fail.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "core/mnist.h"

namespace {

// The file each input is written to; removed when the fuzzer exits.
struct ScratchFile {
  std::string path =
      (std::filesystem::temp_directory_path() / ("sws_fuzz_idx_" + std::to_string(::getpid()) + ".idx"))
          .string();
  ~ScratchFile() { std::remove(path.c_str()); }
};

const std::string& scratch_path() {
  static const ScratchFile file;
  return file.path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = scratch_path();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) __builtin_trap();
  if (size && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
  try {
    const sws::IdxImages images = sws::read_idx_images(path);
    if (images.pixels.size() != static_cast<size_t>(images.count * images.rows * images.cols))
      __builtin_trap();
  } catch (const sws::Error&) {
  }
  try {
    const sws::IdxLabels labels = sws::read_idx_labels(path);
    if (labels.labels.size() != static_cast<size_t>(labels.count)) __builtin_trap();
  } catch (const sws::Error&) {
  }
  return 0;
}
