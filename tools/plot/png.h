// PNG output for a Canvas through stb_image_write (Debian's libstb).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "tools/plot/canvas.h"

namespace sws::plot {

// The canvas as PNG file bytes (RGB, 8 bits per channel).
std::vector<uint8_t> encode_png(const Canvas& canvas);

// Writes the canvas as a PNG file at `path`, atomically (a temporary name, then rename), so a
// viewer or a crash never sees half a figure. Throws sws::Error naming the path on failure.
void write_png(const Canvas& canvas, const std::string& path);

}  // namespace sws::plot
