// A legend or note box in a corner of a plot area: a swatch (line, band, marker or none) and a
// label per entry, on a translucent white box so that it stays readable over data.
#pragma once
#include <string>
#include <vector>

#include "tools/plot/axes.h"
#include "tools/plot/canvas.h"

namespace sws::plot {

struct LegendEntry {
  enum class Swatch { none, line, band, marker, bar };
  std::string label;
  Color color = colors::black;
  Swatch swatch = Swatch::none;
};

enum class Corner { top_left, top_right, bottom_left, bottom_right };

// Draws the entries stacked in `corner` of `area` (inset a few pixels) and returns the box used.
Rect draw_legend(Canvas& canvas, Rect area, Corner corner, const std::vector<LegendEntry>& entries,
                 float text_size);

// The height draw_legend_rows needs for `entries` within `width` pixels: what to ask of
// AxesSpec::header_height.
int legend_rows_height(const std::vector<LegendEntry>& entries, float text_size, int width);

// Axes on `outer` with a header strip tall enough for `entries` as legend rows (draw them with
// draw_legend_rows into header_area()): laid out twice if need be, since how many rows the
// entries take depends on the plot's width, which depends on the margins.
Axes axes_with_legend_rows(Rect outer, AxesSpec spec, const std::vector<LegendEntry>& entries, float text_size);

// Draws the entries side by side, unboxed, wrapping onto further rows where the strip's width
// runs out, each row centred in `strip` (a chart's header, between title and plot). Returns the
// box used.
Rect draw_legend_rows(Canvas& canvas, Rect strip, const std::vector<LegendEntry>& entries, float text_size);

}  // namespace sws::plot
