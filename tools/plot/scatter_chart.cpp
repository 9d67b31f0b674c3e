#include "tools/plot/scatter_chart.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "tools/plot/histogram.h"
#include "tools/plot/legend.h"
#include "tools/plot/shapes.h"
#include "tools/plot/text.h"

namespace sws::plot {
namespace {

constexpr Color kPointColor = Color::hex(0x1A1A1A);
constexpr Color kInk = Color::hex(0x222222);

// Symmetric about 0 out to the largest finite magnitude, plus 5%.
void symmetric_range(const std::vector<float>& v, double& lo, double& hi) {
  if (!std::isnan(lo) && !std::isnan(hi)) return;
  double m = 0;
  for (float x : v)
    if (std::isfinite(x)) m = std::max(m, double(std::fabs(x)));
  m = m > 0 ? m * 1.05 : 1.0;
  if (std::isnan(lo)) lo = -m;
  if (std::isnan(hi)) hi = m;
}

}  // namespace

ScatterChart scatter_chart(const std::vector<float>& pretrained, const std::vector<float>& retrained,
                           const std::vector<MixtureComponent>& components, const ScatterOptions& o) {
  SWS_CHECK(!pretrained.empty() && pretrained.size() == retrained.size(),
            "scatter chart needs as many pretrained as retrained weights (and some): got " +
                std::to_string(pretrained.size()) + " and " + std::to_string(retrained.size()));
  SWS_CHECK(o.max_points >= 1, "scatter chart: max_points must be >= 1");
  double x_lo = o.x_min, x_hi = o.x_max, y_lo = o.y_min, y_hi = o.y_max;
  symmetric_range(pretrained, x_lo, x_hi);
  symmetric_range(retrained, y_lo, y_hi);
  const Histogram top_h = bin_values(pretrained, o.marginal_bins, x_lo, x_hi);
  const Histogram right_h = bin_values(retrained, o.marginal_bins, y_lo, y_hi);

  const float fs = o.font_scale;
  const Font& font = Font::default_font();
  const int pad = 8, tick_h = font.measure("0", 13.f * fs).height,
            title_h = font.measure("0", 16.f * fs).height;
  const int top_panel = o.height * 17 / 100, right_panel = o.width * 16 / 100;

  // The right panel's count axis decides how much room its last tick label needs.
  AxesSpec right_spec;
  right_spec.x = Axis{0.5, std::max(10.0, double(right_h.max_count()) * 3), true, "count", true, true, 3};
  right_spec.y = Axis{y_lo, y_hi, false, "", false, false, 8};
  const int right_margin = pad + font.measure("100k", 13.f * fs).width / 2 + 2;

  AxesSpec main_spec;
  main_spec.x = Axis{x_lo, x_hi, false, o.x_label, true, false, 8};
  main_spec.y = Axis{y_lo, y_hi, false, o.y_label, true, false, 8};
  // Title, then the legend rows, then the top panel.
  const float legend_size = 13.f * fs;
  std::vector<LegendEntry> legend = {
      {"zero component \u00b1 2\u03c3", colors::vermillion, LegendEntry::Swatch::band}};
  if (components.size() > 1)
    legend.push_back({"other components \u00b1 2\u03c3", component_color(1), LegendEntry::Swatch::band});
  const size_t n = pretrained.size(), shown = std::min(n, o.max_points);
  if (shown < n)
    legend.push_back({with_thousands_separators(shown) + " of " + with_thousands_separators(n) + " weights shown", colors::grey});
  const int title_band = o.title.empty() ? pad : pad + title_h + 6;
  const Rect header{pad, title_band, o.width - pad,
                    title_band + legend_rows_height(legend, legend_size, o.width - 2 * pad)};
  const int top_band = header.y1 + tick_h / 2 + top_panel + 10;
  for (AxesSpec* s : {&main_spec, &right_spec}) s->tick_size *= fs, s->label_size *= fs, s->title_size *= fs;

  Canvas canvas(o.width, o.height);
  Axes main(Rect{0, top_band, o.width - right_panel - 14 - right_margin, o.height}, main_spec);
  const Rect m = main.plot_area();

  AxesSpec top_spec;
  top_spec.x = main_spec.x, top_spec.x.tick_labels = false, top_spec.x.label.clear();
  top_spec.y = Axis{0, std::max(1.0, double(top_h.max_count()) * 1.08), false, "count", true, true, 3};
  top_spec.tick_size = main_spec.tick_size, top_spec.label_size = main_spec.label_size;
  Axes top = Axes::with_plot_area(Rect{m.x0, header.y1 + tick_h / 2 + 1, m.x1, m.y0 - 14}, top_spec);
  Axes right = Axes::with_plot_area(Rect{m.x1 + 14, m.y0, o.width - right_margin, m.y1}, right_spec);

  // Main panel: component bands, then the points over them.
  main.draw_grid(canvas, true);
  main.clip_to_plot(canvas);
  for (size_t j = 0; j < components.size(); ++j) {
    const MixtureComponent& c = components[j];
    double y0 = main.y_to_px(c.mean + 2 * c.sigma), y1 = main.y_to_px(c.mean - 2 * c.sigma);
    fill_polygon(canvas, {{double(m.x0), y0}, {double(m.x1), y0}, {double(m.x1), y1}, {double(m.x0), y1}},
                 component_color(int(j)), 0.22f);
  }
  for (size_t i = 0; i < shown; ++i) {
    size_t k = size_t((unsigned __int128)i * n / shown);  // evenly spread, deterministic
    fill_circle(canvas, {main.x_to_px(pretrained[k]), main.y_to_px(retrained[k])}, o.point_radius,
                kPointColor, o.point_alpha);
  }

  // Marginals on all the weights.
  const Rect t = top.plot_area(), r = right.plot_area();
  top.draw_grid(canvas);
  top.clip_to_plot(canvas);
  for (size_t i = 0; i < top_h.counts.size(); ++i) {
    if (top_h.counts[i] == 0) continue;
    int x0 = int(std::lround(top.x_to_px(top_h.bin_lo(i)))),
        x1 = int(std::lround(top.x_to_px(top_h.bin_hi(i))));
    canvas.fill_rect({x0, int(std::lround(top.y_to_px(double(top_h.counts[i])))), std::max(x1, x0 + 1), t.y1},
                     colors::sky_blue);
  }
  right.draw_grid(canvas, true);
  right.clip_to_plot(canvas);
  for (size_t i = 0; i < right_h.counts.size(); ++i) {
    if (right_h.counts[i] == 0) continue;
    int y0 = int(std::lround(right.y_to_px(right_h.bin_hi(i)))),
        y1 = int(std::lround(right.y_to_px(right_h.bin_lo(i))));
    canvas.fill_rect(
        {r.x0, y0, int(std::lround(right.x_to_px(double(right_h.counts[i])))), std::max(y1, y0 + 1)},
        colors::sky_blue);
  }
  canvas.reset_clip();
  main.draw_frame(canvas);
  top.draw_frame(canvas);
  right.draw_frame(canvas);

  if (!o.title.empty()) {
    TextStyle s;
    s.size = 16.f * fs, s.color = kInk, s.align = Align::centre;
    draw_text(canvas, o.title, (m.x0 + o.width - right_margin) / 2.0, pad, s);
  }
  draw_legend_rows(canvas, header, legend, legend_size);
  return {std::move(canvas), main, top, right, shown};
}

}  // namespace sws::plot
