#include "tools/plot/legend.h"

#include <algorithm>

#include "tools/plot/shapes.h"
#include "tools/plot/text.h"

namespace sws::plot {

namespace {

// The little sample of an entry's mark, swatch_w wide, centred vertically on `mid`.
void draw_swatch(Canvas& canvas, const LegendEntry& e, int sx, double mid, int swatch_w) {
  switch (e.swatch) {
    case LegendEntry::Swatch::line:
      draw_line(canvas, {double(sx), mid}, {double(sx + swatch_w), mid}, 2.0, e.color);
      break;
    case LegendEntry::Swatch::band:
      canvas.fill_rect({sx, int(mid) - 5, sx + swatch_w, int(mid) + 5}, e.color, 0.25f);
      draw_line(canvas, {double(sx), mid}, {double(sx + swatch_w), mid}, 2.0, e.color);
      break;
    case LegendEntry::Swatch::marker:
      fill_polygon(canvas,
                   {{sx + swatch_w / 2.0 - 5, mid - 4},
                    {sx + swatch_w / 2.0 + 5, mid - 4},
                    {sx + swatch_w / 2.0, mid + 5}},
                   e.color);
      break;
    case LegendEntry::Swatch::bar:
      canvas.fill_rect({sx + 2, int(mid) - 5, sx + swatch_w - 2, int(mid) + 5}, e.color);
      break;
    case LegendEntry::Swatch::none:
      break;
  }
}

constexpr Color kInk = Color::hex(0x222222);

}  // namespace

Rect draw_legend(Canvas& canvas, Rect area, Corner corner, const std::vector<LegendEntry>& entries,
                 float text_size) {
  if (entries.empty()) return Rect{};
  const Font& font = Font::default_font();
  const int line_h = font.measure("0", text_size).height + 2, inset = 6, padding = 6;
  const int swatch_w = int(text_size * 1.6f), swatch_gap = 6;
  const bool any_swatch = std::any_of(entries.begin(), entries.end(), [](const LegendEntry& e) {
    return e.swatch != LegendEntry::Swatch::none;
  });
  int text_w = 0;
  for (const LegendEntry& e : entries) text_w = std::max(text_w, font.measure(e.label, text_size).width);
  const int w = 2 * padding + (any_swatch ? swatch_w + swatch_gap : 0) + text_w;
  const int h = 2 * padding + line_h * int(entries.size()) - 2;
  const bool left = corner == Corner::top_left || corner == Corner::bottom_left;
  const bool top = corner == Corner::top_left || corner == Corner::top_right;
  const int x0 = left ? area.x0 + inset : area.x1 - inset - w;
  const int y0 = top ? area.y0 + inset : area.y1 - inset - h;
  Rect box{x0, y0, x0 + w, y0 + h};
  canvas.reset_clip();
  canvas.fill_rect(box, colors::white, 0.85f);
  // A hairline border keeps the box apart from bars it overlaps.
  for (Rect edge : {Rect{box.x0, box.y0, box.x1, box.y0 + 1}, Rect{box.x0, box.y1 - 1, box.x1, box.y1},
                    Rect{box.x0, box.y0, box.x0 + 1, box.y1}, Rect{box.x1 - 1, box.y0, box.x1, box.y1}})
    canvas.fill_rect(edge, colors::light_grey);
  TextStyle style;
  style.size = text_size, style.valign = VAlign::middle;
  for (size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    double mid = y0 + padding + line_h * double(i) + (line_h - 2) / 2.0;
    draw_swatch(canvas, e, x0 + padding, mid, swatch_w);
    int tx = x0 + padding + (any_swatch ? swatch_w + swatch_gap : 0);
    style.color = e.swatch == LegendEntry::Swatch::none ? e.color : kInk;
    draw_text(canvas, e.label, tx, mid, style);
  }
  return box;
}

namespace {

// Entries packed greedily into rows no wider than `width` (an entry wider than that gets a row
// of its own): each row is a list of entry indices, with the widths of entries and rows.
struct RowLayout {
  std::vector<std::vector<size_t>> rows;
  std::vector<int> entry_width, row_width;
  int row_height = 0, swatch_w = 0, swatch_gap = 6, entry_gap = 0;
};

RowLayout layout_rows(const std::vector<LegendEntry>& entries, float text_size, int width) {
  const Font& font = Font::default_font();
  RowLayout l;
  l.row_height = font.measure("0", text_size).height + 4;
  l.swatch_w = int(text_size * 1.6f), l.entry_gap = int(text_size * 1.5f);
  for (size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    int w = (e.swatch == LegendEntry::Swatch::none ? 0 : l.swatch_w + l.swatch_gap) +
            font.measure(e.label, text_size).width;
    l.entry_width.push_back(w);
    if (l.rows.empty() || l.row_width.back() + l.entry_gap + w > width) {
      l.rows.push_back({i});
      l.row_width.push_back(w);
    } else {
      l.rows.back().push_back(i);
      l.row_width.back() += l.entry_gap + w;
    }
  }
  return l;
}

}  // namespace

int legend_rows_height(const std::vector<LegendEntry>& entries, float text_size, int width) {
  if (entries.empty()) return 0;
  RowLayout l = layout_rows(entries, text_size, width);
  return l.row_height * int(l.rows.size()) + 4;
}

Rect draw_legend_rows(Canvas& canvas, Rect strip, const std::vector<LegendEntry>& entries, float text_size) {
  if (entries.empty()) return Rect{};
  RowLayout l = layout_rows(entries, text_size, strip.width());
  canvas.reset_clip();
  TextStyle style;
  style.size = text_size, style.valign = VAlign::middle;
  const int total_h = l.row_height * int(l.rows.size());
  const int y0 = strip.y0 + (strip.height() - total_h) / 2;
  Rect used{strip.x1, y0, strip.x0, y0 + total_h};
  for (size_t r = 0; r < l.rows.size(); ++r) {
    const double mid = y0 + l.row_height * (r + 0.5);
    int x = strip.x0 + (strip.width() - l.row_width[r]) / 2;
    used.x0 = std::min(used.x0, x), used.x1 = std::max(used.x1, x + l.row_width[r]);
    for (size_t i : l.rows[r]) {
      const LegendEntry& e = entries[i];
      int tx = x;
      if (e.swatch != LegendEntry::Swatch::none) {
        draw_swatch(canvas, e, x, mid, l.swatch_w);
        tx += l.swatch_w + l.swatch_gap;
      }
      style.color = e.swatch == LegendEntry::Swatch::none ? e.color : kInk;
      draw_text(canvas, e.label, tx, mid, style);
      x += l.entry_width[i] + l.entry_gap;
    }
  }
  return used;
}

Axes axes_with_legend_rows(Rect outer, AxesSpec spec, const std::vector<LegendEntry>& entries, float text_size) {
  spec.header_height = legend_rows_height(entries, text_size, outer.width());
  Axes axes(outer, spec);
  if (int need = legend_rows_height(entries, text_size, axes.header_area().width()); need != spec.header_height) {
    spec.header_height = need;
    axes = Axes(outer, spec);
  }
  return axes;
}

}  // namespace sws::plot
