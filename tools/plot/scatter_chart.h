// Pretrained against retrained weights (the paper's Figure 3, right): one point per weight,
// alpha-blended so that density shows, the final components' mean +- 2 sigma as horizontal
// bands, and marginal histograms: pretrained on top (linear count), retrained on the right (log
// count, since nearly all of them are exact zeros).
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "tools/plot/axes.h"
#include "tools/plot/canvas.h"
#include "tools/plot/mixture.h"

namespace sws::plot {

struct ScatterOptions {
  int width = 800, height = 800;
  std::string title;
  std::string x_label = "pretrained weight";
  std::string y_label = "retrained weight";
  // Ranges; NaN: symmetric about 0, out to the largest magnitude (plus 5%).
  double x_min = std::nan(""), x_max = std::nan(""), y_min = std::nan(""), y_max = std::nan("");
  // Beyond this many points, a deterministic, evenly spread subsample is drawn (every
  // (N / max_points)-th weight; the marginal histograms still count all of them) and a caption
  // says so. 100k points draw in about 10 ms.
  size_t max_points = 100000;
  float point_radius = 1.3f;
  float point_alpha = 0.25f;
  int marginal_bins = 81;
  float font_scale = 1.f;
};

struct ScatterChart {
  Canvas canvas;
  Axes main;            // pretrained (x) against retrained (y)
  Axes top;             // pretrained histogram, x shared with `main`
  Axes right;           // retrained histogram (log count along x), y shared with `main`
  size_t points_drawn;  // after subsampling
};

// pretrained[i] and retrained[i] are the same weight before and after retraining; `components`
// are the prior's final components (component 0 = the zero component, vermillion). Throws
// sws::Error if the two sizes differ or are 0.
ScatterChart scatter_chart(const std::vector<float>& pretrained, const std::vector<float>& retrained,
                           const std::vector<MixtureComponent>& components, const ScatterOptions& options);

}  // namespace sws::plot
