#include "tools/plot/line_chart.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "tools/plot/legend.h"
#include "tools/plot/shapes.h"

namespace sws::plot {

LineChart line_chart(const std::vector<LineSeries>& series, const LineChartOptions& o) {
  SWS_CHECK(!series.empty(), "line chart: no series");
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const LineSeries& s : series) {
    SWS_CHECK(!s.x.empty() && s.x.size() == s.y.size(),
              "line chart: series '" + s.name + "' has " + std::to_string(s.x.size()) + " x and " +
                  std::to_string(s.y.size()) + " y values");
    for (size_t i = 0; i < s.x.size(); ++i) {
      SWS_CHECK(std::isfinite(s.x[i]) && std::isfinite(s.y[i]), "line chart: series '" + s.name + "' has a non-finite value");
      x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
    }
  }
  if (x_hi == x_lo) x_lo -= 0.5, x_hi += 0.5;
  double pad = 0.05 * (y_hi - y_lo);
  if (pad == 0) pad = std::max(0.01 * std::abs(y_hi), 1e-6);
  AxesSpec spec;
  spec.title = o.title;
  spec.x = Axis{x_lo, x_hi, false, o.x_label, true, false, 8};
  spec.y = Axis{std::isnan(o.y_min) ? y_lo - pad : o.y_min, std::isnan(o.y_max) ? y_hi + pad : o.y_max, false,
                o.y_label, true, false, 6};
  spec.tick_size *= o.font_scale, spec.label_size *= o.font_scale, spec.title_size *= o.font_scale;
  const float legend_size = 13.f * o.font_scale;
  std::vector<LegendEntry> legend;
  for (const LineSeries& s : series) legend.push_back({s.name, s.color, LegendEntry::Swatch::line});

  Canvas canvas(o.width, o.height);
  const Axes axes = axes_with_legend_rows(canvas.bounds(), spec, legend, legend_size);
  axes.draw_grid(canvas);
  axes.clip_to_plot(canvas);
  for (const LineSeries& s : series) {
    std::vector<Point> line;
    for (size_t i = 0; i < s.x.size(); ++i) line.push_back({axes.x_to_px(s.x[i]), axes.y_to_px(s.y[i])});
    if (line.size() == 1) fill_circle(canvas, line[0], 2 * s.width, s.color);
    else draw_polyline(canvas, line, s.width, s.color);
  }
  canvas.reset_clip();
  axes.draw_frame(canvas);
  draw_legend_rows(canvas, axes.header_area(), legend, legend_size);
  return {std::move(canvas), axes};
}

}  // namespace sws::plot
