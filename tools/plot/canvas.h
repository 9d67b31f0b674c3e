// Canvas: an 8-bit RGB image in memory that the charts draw on, with alpha blending and a clip
// rectangle. Coordinates: pixel (x, y) is column x, row y from the top-left; shapes (shapes.h)
// take continuous coordinates in which pixel (x, y) covers [x, x+1) x [y, y+1).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tools/plot/color.h"

namespace sws::plot {

// A pixel rectangle: columns x0 .. x1-1, rows y0 .. y1-1 (end exclusive).
struct Rect {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
  bool empty() const { return x1 <= x0 || y1 <= y0; }
  bool contains(int x, int y) const { return x >= x0 && x < x1 && y >= y0 && y < y1; }
  Rect intersect(const Rect& o) const;
};

// A point in continuous pixel coordinates.
struct Point {
  double x = 0, y = 0;
};

class Canvas {
 public:
  // A width x height image filled with `background`. Throws sws::Error for a size <= 0 or one
  // past 16384 on a side (a bug upstream, not a figure).
  Canvas(int width, int height, Color background = colors::white);

  int width() const { return width_; }
  int height() const { return height_; }
  Rect bounds() const { return Rect{0, 0, width_, height_}; }
  // Rows top to bottom, 3 * width bytes each, R G B: the layout PNG and GIF encoders take.
  const uint8_t* data() const { return pixels_.data(); }
  // The colour at (x, y); throws sws::Error outside the image.
  Color at(int x, int y) const;

  void fill(Color c);
  // Blends `c` with opacity `alpha` (0 = nothing, 1 = replace) over pixel (x, y). Pixels outside
  // the clip rectangle are left alone, so callers need not clip.
  void blend(int x, int y, Color c, float alpha) {
    if (!clip_.contains(x, y) || alpha <= 0.f) return;
    uint8_t* p = &pixels_[(size_t(y) * size_t(width_) + size_t(x)) * 3];
    if (alpha >= 1.f) {
      p[0] = c.r, p[1] = c.g, p[2] = c.b;
      return;
    }
    p[0] = uint8_t(p[0] + (float(c.r) - float(p[0])) * alpha + 0.5f);
    p[1] = uint8_t(p[1] + (float(c.g) - float(p[1])) * alpha + 0.5f);
    p[2] = uint8_t(p[2] + (float(c.b) - float(p[2])) * alpha + 0.5f);
  }
  // A filled rectangle of whole pixels (crisp edges: bars, frames, ticks), clipped.
  void fill_rect(Rect r, Color c, float alpha = 1.f);

  // Drawing is confined to `r` (intersected with the image) until reset_clip().
  void set_clip(Rect r) { clip_ = r.intersect(bounds()); }
  void reset_clip() { clip_ = bounds(); }
  Rect clip() const { return clip_; }

 private:
  int width_, height_;
  Rect clip_;
  std::vector<uint8_t> pixels_;
};

}  // namespace sws::plot
