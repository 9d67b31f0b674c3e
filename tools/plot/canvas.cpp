#include "tools/plot/canvas.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace sws::plot {

Rect Rect::intersect(const Rect& o) const {
  Rect r{std::max(x0, o.x0), std::max(y0, o.y0), std::min(x1, o.x1), std::min(y1, o.y1)};
  if (r.empty()) return Rect{};
  return r;
}

Canvas::Canvas(int width, int height, Color background) : width_(width), height_(height) {
  SWS_CHECK(width > 0 && height > 0 && width <= 16384 && height <= 16384,
            "Canvas size " + std::to_string(width) + "x" + std::to_string(height) +
                " is out of range: each side must be 1..16384 pixels");
  clip_ = bounds();
  pixels_.resize(size_t(width) * size_t(height) * 3);
  fill(background);
}

Color Canvas::at(int x, int y) const {
  SWS_CHECK(bounds().contains(x, y), "Canvas::at(" + std::to_string(x) + ", " + std::to_string(y) +
                                         ") is outside the " + std::to_string(width_) + "x" +
                                         std::to_string(height_) + " image");
  const uint8_t* p = &pixels_[(size_t(y) * size_t(width_) + size_t(x)) * 3];
  return Color{p[0], p[1], p[2]};
}

void Canvas::fill(Color c) {
  for (size_t i = 0; i < pixels_.size(); i += 3) {
    pixels_[i] = c.r, pixels_[i + 1] = c.g, pixels_[i + 2] = c.b;
  }
}

void Canvas::fill_rect(Rect r, Color c, float alpha) {
  r = r.intersect(clip_);
  for (int y = r.y0; y < r.y1; ++y)
    for (int x = r.x0; x < r.x1; ++x) blend(x, y, c, alpha);
}

}  // namespace sws::plot
