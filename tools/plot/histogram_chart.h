// Weight histograms (one per retraining epoch makes the animation), optionally with the
// mixture prior's density overlaid and its component means marked.
#pragma once
#include <string>
#include <vector>

#include "tools/plot/axes.h"
#include "tools/plot/canvas.h"
#include "tools/plot/histogram.h"
#include "tools/plot/mixture.h"

namespace sws::plot {

struct HistogramOptions {
  int width = 800, height = 500;
  int bins = 121;                      // odd over a symmetric range: 0 mid-bin
  double x_min = -0.25, x_max = 0.25;  // fixed, so that animation frames line up
  bool log_counts = true;              // log count axis: the zero bin dwarfs the rest otherwise
  // Top of the count axis; 0: from the data. Fix it for an animation (e.g. to the weight count
  // with log_counts) so the axis does not jump between frames.
  double count_max = 0;
  // Leave exact zeros out of the bars and report their share ("zeros: 97.2%") in a corner.
  bool exclude_zeros = false;
  std::string title;
  std::string x_label = "weight value";
  std::string y_label = "count";
  // Non-empty: overlay the total density scaled to the bars (expected count per bin = N *
  // bin width * density, N = all finite values, zeros included) and mark each mean with a
  // triangle at the top and a faint line; component 0 (the zero component) in vermillion, the
  // others bluish green.
  std::vector<MixtureComponent> mixture;
  float font_scale = 1.f;  // all text sizes times this (e.g. 1.4 for slides)
};

struct HistogramChart {
  Canvas canvas;
  Axes axes;            // the data-to-pixel map used: where each bar and mark went
  Histogram histogram;  // the counts drawn
};

// Draws the histogram of `values` (a few ms for 431k values at 800x500). Throws sws::Error for
// an invalid range, bin count or size.
HistogramChart histogram_chart(const std::vector<float>& values, const HistogramOptions& options);
// The same from counts binned earlier (e.g. saved per epoch by a run, to redraw its frames);
// their range and zero handling must be the options'.
HistogramChart histogram_chart(const Histogram& counts, const HistogramOptions& options);

// Bar fill and mean-marker colours, exposed for tests and for legends elsewhere.
constexpr Color kHistogramBarColor = colors::sky_blue;
constexpr Color kMeanMarkerColor = colors::bluish_green;
constexpr Color kDensityColor = Color::hex(0x222222);

}  // namespace sws::plot
