#include "tools/plot/png.h"

#include <stb_image_write.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace sws::plot {

std::vector<uint8_t> encode_png(const Canvas& canvas) {
  std::vector<uint8_t> bytes;
  // stbi_write_png_to_func hands the encoder's buffer (stbi_write_png_to_mem's result) to us
  // and frees it, so no allocator crosses the library boundary.
  auto append = [](void* context, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(context);
    const uint8_t* p = static_cast<const uint8_t*>(data);
    out->insert(out->end(), p, p + size);
  };
  int ok = stbi_write_png_to_func(append, &bytes, canvas.width(), canvas.height(), 3, canvas.data(),
                                  canvas.width() * 3);
  SWS_CHECK(ok && !bytes.empty(), "PNG encoding of a " + std::to_string(canvas.width()) + "x" +
                                      std::to_string(canvas.height()) + " canvas failed (out of memory?)");
  return bytes;
}

void write_png(const Canvas& canvas, const std::string& path) {
  std::vector<uint8_t> bytes = encode_png(canvas);
  write_file_atomically(path, bytes.data(), bytes.size());
}

}  // namespace sws::plot
