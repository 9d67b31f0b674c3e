#include "tools/plot/trajectory_chart.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "tools/plot/legend.h"
#include "tools/plot/shapes.h"

namespace sws::plot {

TrajectoryChart trajectory_chart(const std::vector<double>& epochs,
                                 const std::vector<std::vector<MixtureComponent>>& snapshots,
                                 const TrajectoryOptions& o) {
  SWS_CHECK(epochs.size() >= 2,
            "trajectory chart needs at least 2 epochs, got " + std::to_string(epochs.size()));
  SWS_CHECK(snapshots.size() == epochs.size(), "trajectory chart has " + std::to_string(epochs.size()) +
                                                   " epochs but " + std::to_string(snapshots.size()) +
                                                   " snapshots");
  const size_t J = snapshots[0].size();
  SWS_CHECK(J >= 1, "trajectory chart: the first snapshot has no components");
  double lo = 0, hi = 0;  // the means' range, 0 included
  for (size_t t = 0; t < snapshots.size(); ++t) {
    SWS_CHECK(snapshots[t].size() == J, "trajectory chart: snapshot " + std::to_string(t) + " has " +
                                            std::to_string(snapshots[t].size()) +
                                            " components, the first has " + std::to_string(J));
    for (const MixtureComponent& c : snapshots[t])
      if (std::isfinite(c.mean)) lo = std::min(lo, c.mean), hi = std::max(hi, c.mean);
  }
  double pad = 0.1 * std::max(hi - lo, 1e-6);
  AxesSpec spec;
  spec.title = o.title;
  spec.x = Axis{*std::min_element(epochs.begin(), epochs.end()),
                *std::max_element(epochs.begin(), epochs.end()),
                false,
                o.x_label,
                true,
                false,
                8};
  spec.y = Axis{std::isnan(o.y_min) ? lo - pad : o.y_min,
                std::isnan(o.y_max) ? hi + pad : o.y_max,
                false,
                o.y_label,
                true,
                false,
                8};
  spec.tick_size *= o.font_scale, spec.label_size *= o.font_scale, spec.title_size *= o.font_scale;
  const float legend_size = 13.f * o.font_scale;
  std::vector<LegendEntry> legend = {{"zero component", colors::vermillion, LegendEntry::Swatch::band}};
  if (J > 1)
    legend.push_back({"other components (colours cycle)", component_color(1), LegendEntry::Swatch::band});
  legend.push_back({"lines: means, bands: \u00b1 2\u03c3", colors::grey});

  Canvas canvas(o.width, o.height);
  const Axes axes = axes_with_legend_rows(canvas.bounds(), spec, legend, legend_size);
  axes.draw_grid(canvas);
  axes.clip_to_plot(canvas);
  // Bands first, all of them, so that no band hides another component's mean line.
  for (size_t j = 0; j < J; ++j) {
    std::vector<Point> upper, lower;
    for (size_t t = 0; t < epochs.size(); ++t) {
      const MixtureComponent& c = snapshots[t][j];
      upper.push_back({axes.x_to_px(epochs[t]), axes.y_to_px(c.mean + 2 * c.sigma)});
      lower.push_back({axes.x_to_px(epochs[t]), axes.y_to_px(c.mean - 2 * c.sigma)});
    }
    fill_band(canvas, upper, lower, component_color(int(j)), o.band_alpha);
  }
  // The zero component's line last: it is the one every pruned weight ends on.
  for (size_t k = 0; k < J; ++k) {
    size_t j = (k + 1) % J;
    std::vector<Point> line;
    for (size_t t = 0; t < epochs.size(); ++t)
      line.push_back({axes.x_to_px(epochs[t]), axes.y_to_px(snapshots[t][j].mean)});
    draw_polyline(canvas, line, j == 0 ? 2.6 : 1.8, component_color(int(j)));
  }
  canvas.reset_clip();
  axes.draw_frame(canvas);
  draw_legend_rows(canvas, axes.header_area(), legend, legend_size);
  return {std::move(canvas), axes};
}

}  // namespace sws::plot
