// Lines over a shared x axis, each with its name in a legend row above the plot: the accuracy
// curves of a run (validation, snapped validation) over the retraining epochs.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "tools/plot/axes.h"
#include "tools/plot/canvas.h"

namespace sws::plot {

struct LineSeries {
  std::string name;        // in the legend
  std::vector<double> x, y;  // equal lengths, at least 1 point
  Color color = colors::blue;
  double width = 2.0;      // pixels
};

struct LineChartOptions {
  int width = 800, height = 500;
  std::string title, x_label, y_label;
  // The y range; both NaN: the data's range plus 5% (a flat series gets +-1% of its value).
  double y_min = std::nan(""), y_max = std::nan("");
  float font_scale = 1.f;
};

struct LineChart {
  Canvas canvas;
  Axes axes;
};

// Draws every series (a single point as a dot). Throws sws::Error for no series, a series with
// no points or mismatched lengths, or a non-finite value.
LineChart line_chart(const std::vector<LineSeries>& series, const LineChartOptions& options);

}  // namespace sws::plot
