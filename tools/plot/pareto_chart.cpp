#include "tools/plot/pareto_chart.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "tools/plot/legend.h"
#include "tools/plot/shapes.h"
#include "tools/plot/text.h"

namespace sws::plot {

std::vector<ParetoPoint> pareto_front(const std::vector<ParetoPoint>& points) {
  std::vector<ParetoPoint> sorted = points;
  std::sort(sorted.begin(), sorted.end(), [](const ParetoPoint& a, const ParetoPoint& b) {
    return a.size < b.size || (a.size == b.size && a.error < b.error);
  });
  std::vector<ParetoPoint> front;
  for (const ParetoPoint& p : sorted)  // smallest first: on the front when more accurate than all smaller ones
    if (front.empty() || p.error < front.back().error) front.push_back(p);
  return front;
}

ParetoChart pareto_chart(const std::vector<ParetoSeries>& series, size_t front_of, const ParetoChartOptions& o) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const ParetoSeries& s : series)
    for (const ParetoPoint& p : s.points) {
      SWS_CHECK(std::isfinite(p.size) && std::isfinite(p.error) && p.size > 0,
                "pareto chart: series '" + s.name + "' has a point with size <= 0 or a non-finite value");
      x_lo = std::min(x_lo, p.size), x_hi = std::max(x_hi, p.size);
      y_lo = std::min(y_lo, p.error), y_hi = std::max(y_hi, p.error);
    }
  SWS_CHECK(x_lo <= x_hi, "pareto chart: no points");
  AxesSpec spec;
  spec.title = o.title;
  // Whole powers of ten around the sizes, so that the log ticks frame the points.
  spec.x = Axis{std::pow(10.0, std::floor(std::log10(x_lo))), std::pow(10.0, std::ceil(std::log10(x_hi * 1.0001))), true,
                o.x_label, true, true, 6};
  spec.y = Axis{std::isnan(o.y_min) ? std::min(0.0, y_lo) : o.y_min,
                std::isnan(o.y_max) ? y_hi + 0.05 * std::max(1e-9, y_hi - std::min(0.0, y_lo)) : o.y_max, false,
                o.y_label, true, false, 6};
  spec.tick_size *= o.font_scale, spec.label_size *= o.font_scale, spec.title_size *= o.font_scale;
  const float legend_size = 13.f * o.font_scale;
  std::vector<LegendEntry> legend;
  for (const ParetoSeries& s : series) legend.push_back({s.name, s.color, LegendEntry::Swatch::marker});
  legend.push_back({"Pareto front of the trials", colors::black, LegendEntry::Swatch::line});

  Canvas canvas(o.width, o.height);
  const Axes axes = axes_with_legend_rows(canvas.bounds(), spec, legend, legend_size);
  axes.draw_grid(canvas, true);
  axes.clip_to_plot(canvas);
  std::vector<ParetoPoint> pooled;
  for (size_t i = 0; i < std::min(front_of, series.size()); ++i)
    pooled.insert(pooled.end(), series[i].points.begin(), series[i].points.end());
  const std::vector<ParetoPoint> front = pareto_front(pooled);
  if (!front.empty()) {  // a staircase: each point's error holds until the next, smaller-error one
    std::vector<Point> stairs;
    for (size_t i = 0; i < front.size(); ++i) {
      if (i > 0) stairs.push_back({axes.x_to_px(front[i].size), axes.y_to_px(front[i - 1].error)});
      stairs.push_back({axes.x_to_px(front[i].size), axes.y_to_px(front[i].error)});
    }
    stairs.push_back({axes.x_to_px(spec.x.max), axes.y_to_px(front.back().error)});
    draw_polyline(canvas, stairs, 1.5, colors::black, 0.8f);
  }
  // Labelled points get a number beside the marker, alternately above and below (published
  // results crowd near one error), and their labels go into a numbered key box.
  TextStyle number_style;
  number_style.size = 12.f * o.font_scale, number_style.align = Align::centre;
  std::vector<LegendEntry> key;
  for (const ParetoSeries& s : series)
    for (const ParetoPoint& p : s.points) {
      const Point c{axes.x_to_px(p.size), axes.y_to_px(p.error)};
      fill_circle(canvas, c, s.radius, s.color, s.alpha);
      if (s.labelled && !p.label.empty()) {
        const std::string number = std::to_string(key.size() + 1);
        const bool above = key.size() % 2 == 0;
        number_style.color = s.color, number_style.valign = above ? VAlign::bottom : VAlign::top;
        draw_text(canvas, number, c.x, above ? c.y - s.radius - 2 : c.y + s.radius + 2, number_style);
        key.push_back({number + "  " + p.label, s.color, LegendEntry::Swatch::none});
      }
    }
  canvas.reset_clip();
  axes.draw_frame(canvas);
  draw_legend_rows(canvas, axes.header_area(), legend, legend_size);
  if (!key.empty()) draw_legend(canvas, axes.plot_area(), Corner::top_right, key, 12.f * o.font_scale);
  return {std::move(canvas), axes};
}

}  // namespace sws::plot
