// Error against size (the paper's Figure 2, extended): one dot per search trial on a log size
// axis, the trials' Pareto front as a staircase, and labelled reference points (published
// results, the chosen presets) as larger markers.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "tools/plot/axes.h"
#include "tools/plot/canvas.h"

namespace sws::plot {

struct ParetoPoint {
  double size = 0;    // x, > 0 (bytes)
  double error = 0;   // y (percent)
  std::string label;  // drawn beside the marker when the series is labelled
};

struct ParetoSeries {
  std::string name;  // in the legend
  std::vector<ParetoPoint> points;
  Color color = colors::blue;
  double radius = 3.0;   // pixels
  float alpha = 0.7f;
  bool labelled = false;  // draw each point's label
};

struct ParetoChartOptions {
  int width = 900, height = 600;
  std::string title, x_label = "model.sws bytes", y_label = "error (%)";
  // The y range; NaN: from 0 (or the data's minimum) to the data's maximum plus 5%.
  double y_min = std::nan(""), y_max = std::nan("");
  float font_scale = 1.f;
};

struct ParetoChart {
  Canvas canvas;
  Axes axes;
};

// The points no other point beats in both size and error (ties kept once), by increasing size.
std::vector<ParetoPoint> pareto_front(const std::vector<ParetoPoint>& points);

// Draws every series (the first `front_of` series' points, pooled, also give the front, drawn as
// a staircase), then the legend. Throws sws::Error if no series has a point, or a point has a
// size <= 0 or a non-finite value.
ParetoChart pareto_chart(const std::vector<ParetoSeries>& series, size_t front_of, const ParetoChartOptions& options);

}  // namespace sws::plot
