// The prior's components over retraining (the paper's Figure 3, left): x = epoch, y = weight
// value; per component its mean as a line and mean +- 2 sigma as a translucent band.
#pragma once
#include <string>
#include <vector>

#include "tools/plot/axes.h"
#include "tools/plot/canvas.h"
#include "tools/plot/mixture.h"

namespace sws::plot {

struct TrajectoryOptions {
  int width = 800, height = 500;
  std::string title;
  std::string x_label = "epoch";
  std::string y_label = "weight value";
  // The weight-value range; both NaN: the means' range plus 10% (bands beyond it are cut at the
  // frame, since the first epochs' wide sigmas would otherwise squash the rest).
  double y_min = std::nan(""), y_max = std::nan("");
  float band_alpha = 0.18f;
  float font_scale = 1.f;
};

struct TrajectoryChart {
  Canvas canvas;
  Axes axes;
};

// snapshots[t] holds the J components at epochs[t] (component 0 = the zero component, drawn in
// vermillion; the others cycle through the Okabe-Ito colours). Throws sws::Error if the sizes
// differ or there are fewer than 2 epochs.
TrajectoryChart trajectory_chart(const std::vector<double>& epochs,
                                 const std::vector<std::vector<MixtureComponent>>& snapshots,
                                 const TrajectoryOptions& options);

}  // namespace sws::plot
