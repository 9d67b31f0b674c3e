#include "tools/plot/histogram_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "tools/plot/legend.h"
#include "tools/plot/shapes.h"
#include "tools/plot/text.h"

namespace sws::plot {
namespace {

constexpr Color kNoteColor = Color::hex(0x222222);

std::string percent(double fraction) {
  double p = 100 * fraction;
  char buffer[32];
  // Near 0 or 100 one decimal would read as "0.0%" or "100.0%" for what is not.
  int decimals = (p > 0 && p < 0.1) || (p > 99.9 && p < 100) ? 2 : 1;
  std::snprintf(buffer, sizeof buffer, "%.*f%%", decimals, p);
  return buffer;
}

// Sample points for the density: two per pixel column plus dense points around every mean, so
// that a component narrower than a pixel still shows its peak.
std::vector<double> density_samples(const Axes& axes, const std::vector<MixtureComponent>& mixture) {
  const Rect a = axes.plot_area();
  std::vector<double> xs;
  for (int i = 0; i <= 2 * a.width(); ++i) xs.push_back(axes.px_to_x(a.x0 + i / 2.0));
  const double lo = axes.spec().x.min, hi = axes.spec().x.max;
  for (const MixtureComponent& c : mixture)
    for (double k = -4; k <= 4; k += 0.25) {
      double x = c.mean + k * c.sigma;
      if (x > lo && x < hi) xs.push_back(x);
    }
  std::sort(xs.begin(), xs.end());
  return xs;
}

}  // namespace

HistogramChart histogram_chart(const std::vector<float>& values, const HistogramOptions& o) {
  return histogram_chart(bin_values(values, o.bins, o.x_min, o.x_max, o.exclude_zeros), o);
}

HistogramChart histogram_chart(const Histogram& h, const HistogramOptions& o) {
  SWS_CHECK(!h.counts.empty() && h.lo == o.x_min && h.hi == o.x_max && h.zeros_excluded == o.exclude_zeros,
            "histogram_chart: the counts' bins and zero handling differ from the options'");
  const double n_finite = double(h.total - h.non_finite);
  const double scale = n_finite * h.bin_width();  // density -> expected count per bin

  // The count axis covers the bars and the density curve's peaks, except the zero component's
  // when the zeros are left out: its spike would flatten the bars it is meant to explain (it
  // leaves the plot at the top instead).
  double peak = double(h.max_count());
  const std::vector<MixtureComponent> scaled(
      o.mixture.begin() + (o.exclude_zeros && !o.mixture.empty() ? 1 : 0), o.mixture.end());
  for (const MixtureComponent& c : scaled)
    if (c.mean >= o.x_min && c.mean <= o.x_max)
      peak = std::max(peak, scale * mixture_density(scaled, c.mean));
  AxesSpec spec;
  spec.title = o.title;
  spec.x = Axis{o.x_min, o.x_max, false, o.x_label, true, false, 8};
  spec.y.label = o.y_label, spec.y.counts = true;
  if (o.log_counts) {
    spec.y.log = true;
    spec.y.min = 0.5;  // a bin of 1 still shows
    spec.y.max = o.count_max > 0 ? o.count_max : std::max(10.0, peak * 3);
  } else {
    spec.y.min = 0;
    spec.y.max = o.count_max > 0 ? o.count_max : std::max(1.0, peak * 1.08);
  }
  spec.tick_size *= o.font_scale, spec.label_size *= o.font_scale, spec.title_size *= o.font_scale;

  // The header above the plot: the legend rows, then one row of notes on what the bars leave
  // out. The notes' row is kept even when empty if the chart may be an animation frame (zeros
  // excluded or a fixed count axis), so that every frame has the same plot area.
  std::vector<LegendEntry> legend;
  if (!o.mixture.empty())
    legend = {{"mixture prior \u00d7 N \u00d7 bin width", kDensityColor, LegendEntry::Swatch::line},
              {"zero component", colors::vermillion, LegendEntry::Swatch::marker},
              {"component means", kMeanMarkerColor, LegendEntry::Swatch::marker}};
  std::vector<std::string> notes;
  const std::string of_total = " of " + with_thousands_separators(h.total);
  if (o.exclude_zeros)
    notes.push_back("zeros: " + percent(h.total ? double(h.zeros) / double(h.total) : 0.0) + of_total +
                    " (not in the bars)");
  if (h.outside > 0) notes.push_back("outside the range: " + with_thousands_separators(h.outside) + of_total);
  if (h.non_finite > 0) notes.push_back("not finite: " + with_thousands_separators(h.non_finite) + of_total);
  std::string note;
  for (const std::string& n : notes) note += (note.empty() ? "" : "   \u00b7   ") + n;
  const std::vector<LegendEntry> note_row = {{note, h.non_finite > 0 ? colors::vermillion : kNoteColor}};
  const bool keep_note_row = !note.empty() || o.exclude_zeros || o.count_max > 0;
  const float header_size = 13.f * o.font_scale;
  auto header_height = [&](int width) {
    return legend_rows_height(legend, header_size, width) +
           (keep_note_row ? legend_rows_height(note_row, header_size, width) : 0);
  };

  Canvas canvas(o.width, o.height);
  // Laid out twice if need be: how many legend rows fit depends on the plot's width.
  spec.header_height = header_height(o.width);
  Axes axes(canvas.bounds(), spec);
  if (int need = header_height(axes.header_area().width()); need != spec.header_height) {
    spec.header_height = need;
    axes = Axes(canvas.bounds(), spec);
  }
  const Rect area = axes.plot_area();
  axes.draw_grid(canvas);
  axes.clip_to_plot(canvas);

  // Bars on whole pixels so that neighbours meet without seams.
  for (size_t i = 0; i < h.counts.size(); ++i) {
    if (h.counts[i] == 0) continue;
    int x0 = int(std::lround(axes.x_to_px(h.bin_lo(i)))), x1 = int(std::lround(axes.x_to_px(h.bin_hi(i))));
    int top = int(std::lround(axes.y_to_px(double(h.counts[i]))));
    canvas.fill_rect({x0, top, std::max(x1, x0 + 1), area.y1}, kHistogramBarColor);
  }

  if (!o.mixture.empty()) {
    std::vector<Point> curve;
    for (double x : density_samples(axes, o.mixture)) {
      double count = scale * mixture_density(o.mixture, x);
      // Far below the log axis' bottom the curve only needs to leave the plot.
      if (spec.y.log) count = std::max(count, spec.y.min * 0.25);
      curve.push_back({axes.x_to_px(x), axes.y_to_px(count)});
    }
    draw_polyline(canvas, curve, 1.8, kDensityColor);
    for (size_t j = 0; j < o.mixture.size(); ++j) {
      const double px = axes.x_to_px(o.mixture[j].mean);
      const Color c = j == 0 ? colors::vermillion : kMeanMarkerColor;
      canvas.fill_rect({int(std::floor(px)), area.y0, int(std::floor(px)) + 1, area.y1}, c, 0.45f);
      fill_polygon(canvas, {{px - 5.5, double(area.y0)}, {px + 5.5, double(area.y0)}, {px, area.y0 + 10.0}},
                   c);
    }
  }
  canvas.reset_clip();
  axes.draw_frame(canvas);

  Rect header = axes.header_area();
  const int legend_h = legend_rows_height(legend, header_size, header.width());
  draw_legend_rows(canvas, {header.x0, header.y0, header.x1, header.y0 + legend_h}, legend, header_size);
  if (!note.empty())
    draw_legend_rows(canvas, {header.x0, header.y0 + legend_h, header.x1, header.y1}, note_row, header_size);
  return {std::move(canvas), axes, std::move(h)};
}

}  // namespace sws::plot
