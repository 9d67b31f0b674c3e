// Axes: the map from data to pixels inside a chart, with ticks at "nice" numbers (1, 2 or 5
// times a power of ten), tick labels, axis labels and a title, laid out from the measured text so
// that nothing is clipped or overlaps. Charts draw grid -> data -> frame, in that order.
#pragma once
#include <string>
#include <vector>

#include "tools/plot/canvas.h"

namespace sws::plot {

struct Axis {
  double min = 0, max = 1;
  bool log = false;         // base-10 logarithmic (then 0 < min < max)
  std::string label;        // empty: none
  bool tick_labels = true;  // false: ticks only (a panel sharing the axis of its neighbour)
  bool counts = false;      // label ticks as counts: 1, 10, 100, 1k, 20k, 1M
  int target_ticks = 6;     // about how many ticks; fewer if their labels would touch
};

struct AxesSpec {
  Axis x, y;
  std::string title;                                             // empty: none
  float tick_size = 13.f, label_size = 15.f, title_size = 16.f;  // pixels per em
  int header_height = 0;  // pixels kept free between the title and the plot (e.g. a legend row)
};

// Ticks at multiples of 1, 2 or 5 x 10^k within [lo, hi], about target_count of them.
std::vector<double> nice_ticks(double lo, double hi, int target_count);
// Powers of ten within [lo, hi] (every second or third one if there are many).
std::vector<double> log_ticks(double lo, double hi, int target_count);
// A tick label: as many decimals as the step needs ("0.05", "-0.1" with a real minus sign).
std::string format_tick(double value, double step);
// A count label: 1, 10, 100, 1k, 2.5k, 10k, 1M.
std::string format_count(double value);

class Axes {
 public:
  // Lays out the axes inside `outer` (a part of the canvas, usually all of it): margins for the
  // title, axis labels and tick labels are measured, the plot area is what is left. Throws
  // sws::Error for an empty or invalid range or an area too small to hold a plot.
  Axes(Rect outer, const AxesSpec& spec);
  // Axes on a given plot area, with no layout: panels that line up with another Axes.
  static Axes with_plot_area(Rect plot_area, const AxesSpec& spec);

  Rect plot_area() const { return area_; }
  // The strip kept by AxesSpec::header_height, as wide as the plot area (empty if none).
  Rect header_area() const { return header_; }
  const AxesSpec& spec() const { return spec_; }
  // Continuous canvas coordinates: x.min maps to the left edge of the plot area, x.max to its
  // right edge; y.min to the bottom edge, y.max to the top. A value v lies in pixel column
  // floor(x_to_px(v)). On a log axis, values <= 0 map far below/left of the area.
  double x_to_px(double x) const;
  double y_to_px(double y) const;
  double px_to_x(double px) const;

  const std::vector<double>& x_ticks() const { return x_ticks_; }
  const std::vector<double>& y_ticks() const { return y_ticks_; }

  // Light grid lines at the y ticks (x ticks too if `vertical_grid`), under the data.
  void draw_grid(Canvas& canvas, bool vertical_grid = false) const;
  // Frame (left and bottom lines), ticks, tick labels, axis labels and title, over the data.
  void draw_frame(Canvas& canvas) const;
  // Sets the canvas clip to the plot area, so data outside the ranges is cut at the frame.
  void clip_to_plot(Canvas& canvas) const { canvas.set_clip(area_); }

 private:
  Axes(const AxesSpec& spec, Rect area);
  void choose_ticks();
  std::string tick_label(const Axis& axis, double value, double step) const;
  double step_of(const std::vector<double>& ticks) const;

  AxesSpec spec_;
  Rect area_, header_;
  int title_top_ = 0;  // the title's top row
  std::vector<double> x_ticks_, y_ticks_;
};

}  // namespace sws::plot
