#include "tools/plot/axes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"
#include "tools/plot/text.h"

namespace sws::plot {
namespace {

constexpr int kPad = 8;  // around the whole chart
constexpr int kTickLength = 5;
constexpr int kTickGap = 4;   // tick to its label
constexpr int kLabelGap = 6;  // tick labels to the axis label, title to the plot
constexpr Color kInk = Color::hex(0x222222);

std::string real_minus(std::string s) {
  if (!s.empty() && s[0] == '-') s = "\u2212" + s.substr(1);
  return s;
}

double to_axis(const Axis& a, double v) {
  if (!a.log) return v;
  return std::log10(std::max(v, a.min * 1e-6));
}

void check_axis(const Axis& a, const char* name) {
  std::string what =
      std::string(name) + " axis range [" + std::to_string(a.min) + ", " + std::to_string(a.max) + "]";
  SWS_CHECK(std::isfinite(a.min) && std::isfinite(a.max) && a.min < a.max,
            what + " is empty or not finite: min must be below max");
  SWS_CHECK(!a.log || a.min > 0, what + " cannot be logarithmic: min must be > 0");
}

TextStyle style(float size, Align align, VAlign valign, bool vertical = false) {
  TextStyle s;
  s.size = size, s.color = kInk, s.align = align, s.valign = valign, s.vertical = vertical;
  return s;
}

int text_height(float size) { return Font::default_font().measure("0", size).height; }
int text_width(const std::string& s, float size) { return Font::default_font().measure(s, size).width; }

std::vector<double> ticks_for(const Axis& a, int target) {
  return a.log ? log_ticks(a.min, a.max, target) : nice_ticks(a.min, a.max, target);
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target_count) {
  std::vector<double> out;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return out;
  double raw = (hi - lo) / std::max(1, target_count);
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / magnitude;
  double step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
  double eps = step * 1e-9;
  for (double k = std::ceil((lo - eps) / step); k * step <= hi + eps; k += 1) {
    double v = k * step;
    out.push_back(std::fabs(v) < eps ? 0.0 : v);
  }
  return out;
}

std::vector<double> log_ticks(double lo, double hi, int target_count) {
  std::vector<double> out;
  if (!(lo > 0) || !(hi > lo)) return out;
  int first = int(std::ceil(std::log10(lo) - 1e-9)), last = int(std::floor(std::log10(hi) + 1e-9));
  int every = std::max(1, int(std::ceil(double(last - first + 1) / std::max(1, target_count))));
  for (int k = first; k <= last; k += every) out.push_back(std::pow(10.0, k));
  return out;
}

std::string format_tick(double value, double step) {
  int decimals = step > 0 ? std::max(0, -int(std::floor(std::log10(step) + 1e-9))) : 0;
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", std::min(decimals, 12), value);
  std::string s = buffer;
  if (s.find_first_not_of("-0.") == std::string::npos) s = "0";  // no "-0.00"
  return real_minus(s);
}

std::string format_count(double value) {
  char buffer[64];
  double a = std::fabs(value);
  if (a < 1000)
    std::snprintf(buffer, sizeof buffer, "%g", value);
  else if (a < 1e6)
    std::snprintf(buffer, sizeof buffer, "%gk", std::round(value / 100) / 10);
  else if (a < 1e9)
    std::snprintf(buffer, sizeof buffer, "%gM", std::round(value / 1e5) / 10);
  else
    std::snprintf(buffer, sizeof buffer, "%gG", std::round(value / 1e8) / 10);
  return real_minus(buffer);
}

Axes::Axes(const AxesSpec& spec, Rect area) : spec_(spec), area_(area) {}

Axes Axes::with_plot_area(Rect plot_area, const AxesSpec& spec) {
  check_axis(spec.x, "x");
  check_axis(spec.y, "y");
  SWS_CHECK(!plot_area.empty(), "plot area is empty");
  Axes axes(spec, plot_area);
  const int tick_half = spec.y.tick_labels ? text_height(spec.tick_size) / 2 + 1 : 0;
  axes.header_ = Rect{plot_area.x0, plot_area.y0 - tick_half - spec.header_height, plot_area.x1,
                      plot_area.y0 - tick_half};
  axes.title_top_ = axes.header_.y0 - kLabelGap - text_height(spec.title_size);
  axes.choose_ticks();
  return axes;
}

Axes::Axes(Rect outer, const AxesSpec& spec) : spec_(spec) {
  check_axis(spec.x, "x");
  check_axis(spec.y, "y");
  const int tick_h = text_height(spec.tick_size), label_h = text_height(spec.label_size);
  // Widest y tick label with the most ticks we might use (fewer ticks never need more room).
  int y_tick_w = 0;
  if (spec.y.tick_labels) {
    std::vector<double> ticks = ticks_for(spec.y, spec.y.target_ticks);
    for (double t : ticks)
      y_tick_w = std::max(y_tick_w, text_width(tick_label(spec.y, t, step_of(ticks)), spec.tick_size));
  }
  int left = kPad + (spec.y.label.empty() ? 0 : label_h + kLabelGap) +
             (spec.y.tick_labels ? y_tick_w + kTickGap : 0) + kTickLength;
  const int title_band = spec.title.empty() ? 0 : text_height(spec.title_size) + kLabelGap;
  const int tick_half = spec.y.tick_labels ? tick_h / 2 + 1 : 0;
  int top = kPad + title_band + spec.header_height + tick_half;
  int bottom = kPad + (spec.x.label.empty() ? 0 : label_h + kLabelGap) +
               (spec.x.tick_labels ? tick_h + kTickGap : 0) + kTickLength;
  int right = kPad;
  if (spec.x.tick_labels) {
    // The outer x tick labels are centred on their ticks: keep their halves inside.
    std::vector<double> ticks = ticks_for(spec.x, spec.x.target_ticks);
    if (!ticks.empty()) {
      left = std::max(
          left, kPad + text_width(tick_label(spec.x, ticks.front(), step_of(ticks)), spec.tick_size) / 2 + 1);
      right = std::max(
          right, kPad + text_width(tick_label(spec.x, ticks.back(), step_of(ticks)), spec.tick_size) / 2 + 1);
    }
  }
  area_ = Rect{outer.x0 + left, outer.y0 + top, outer.x1 - right, outer.y1 - bottom};
  SWS_CHECK(area_.width() >= 20 && area_.height() >= 20,
            "chart of " + std::to_string(outer.width()) + "x" + std::to_string(outer.height()) +
                " pixels is too small for its labels: make it larger or the text smaller");
  header_ = Rect{area_.x0, outer.y0 + kPad + title_band, area_.x1,
                 outer.y0 + kPad + title_band + spec.header_height};
  title_top_ = outer.y0 + kPad;
  choose_ticks();
}

double Axes::step_of(const std::vector<double>& ticks) const {
  return ticks.size() >= 2 ? ticks[1] - ticks[0] : 0.0;
}

std::string Axes::tick_label(const Axis& axis, double value, double step) const {
  if (axis.counts) return format_count(value);
  if (axis.log) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", value);
    return real_minus(buffer);
  }
  return format_tick(value, step);
}

void Axes::choose_ticks() {
  // Fewer ticks until neighbouring labels keep a gap (x) or a line apart (y).
  const int tick_h = text_height(spec_.tick_size);
  for (int target = std::max(2, spec_.x.target_ticks);; --target) {
    x_ticks_ = ticks_for(spec_.x, target);
    int widest = 0;
    if (spec_.x.tick_labels)
      for (double t : x_ticks_)
        widest = std::max(widest, text_width(tick_label(spec_.x, t, step_of(x_ticks_)), spec_.tick_size));
    double spacing = x_ticks_.size() >= 2 ? std::fabs(x_to_px(x_ticks_[1]) - x_to_px(x_ticks_[0])) : 1e9;
    if (target <= 2 || spacing >= widest + 12) break;
  }
  for (int target = std::max(2, spec_.y.target_ticks);; --target) {
    y_ticks_ = ticks_for(spec_.y, target);
    double spacing = y_ticks_.size() >= 2 ? std::fabs(y_to_px(y_ticks_[1]) - y_to_px(y_ticks_[0])) : 1e9;
    if (target <= 2 || spacing >= 2 * tick_h) break;
  }
}

double Axes::x_to_px(double x) const {
  double lo = to_axis(spec_.x, spec_.x.min), hi = to_axis(spec_.x, spec_.x.max);
  return area_.x0 + (to_axis(spec_.x, x) - lo) / (hi - lo) * area_.width();
}

double Axes::y_to_px(double y) const {
  double lo = to_axis(spec_.y, spec_.y.min), hi = to_axis(spec_.y, spec_.y.max);
  return area_.y1 - (to_axis(spec_.y, y) - lo) / (hi - lo) * area_.height();
}

double Axes::px_to_x(double px) const {
  double lo = to_axis(spec_.x, spec_.x.min), hi = to_axis(spec_.x, spec_.x.max);
  double v = lo + (px - area_.x0) / area_.width() * (hi - lo);
  return spec_.x.log ? std::pow(10.0, v) : v;
}

void Axes::draw_grid(Canvas& canvas, bool vertical_grid) const {
  const Color grid = colors::light_grey;
  for (double t : y_ticks_) {
    int row = std::clamp(int(std::floor(y_to_px(t))), area_.y0, area_.y1 - 1);
    canvas.fill_rect({area_.x0, row, area_.x1, row + 1}, grid);
  }
  if (!vertical_grid) return;
  for (double t : x_ticks_) {
    int col = std::clamp(int(std::floor(x_to_px(t))), area_.x0, area_.x1 - 1);
    canvas.fill_rect({col, area_.y0, col + 1, area_.y1}, grid);
  }
}

void Axes::draw_frame(Canvas& canvas) const {
  canvas.reset_clip();
  canvas.fill_rect({area_.x0 - 1, area_.y0, area_.x0, area_.y1 + 1}, kInk);  // left
  canvas.fill_rect({area_.x0 - 1, area_.y1, area_.x1, area_.y1 + 1}, kInk);  // bottom
  const int tick_h = text_height(spec_.tick_size);
  for (double t : x_ticks_) {
    int col = std::clamp(int(std::floor(x_to_px(t))), area_.x0, area_.x1 - 1);
    canvas.fill_rect({col, area_.y1 + 1, col + 1, area_.y1 + 1 + kTickLength}, kInk);
    if (spec_.x.tick_labels)
      draw_text(canvas, tick_label(spec_.x, t, step_of(x_ticks_)), col + 0.5,
                area_.y1 + 1 + kTickLength + kTickGap, style(spec_.tick_size, Align::centre, VAlign::top));
  }
  for (double t : y_ticks_) {
    int row = std::clamp(int(std::floor(y_to_px(t))), area_.y0, area_.y1 - 1);
    canvas.fill_rect({area_.x0 - 1 - kTickLength, row, area_.x0 - 1, row + 1}, kInk);
    if (spec_.y.tick_labels)
      draw_text(canvas, tick_label(spec_.y, t, step_of(y_ticks_)), area_.x0 - 1 - kTickLength - kTickGap,
                row + 0.5, style(spec_.tick_size, Align::right, VAlign::middle));
  }
  if (!spec_.x.label.empty()) {
    int y = area_.y1 + 1 + kTickLength + (spec_.x.tick_labels ? kTickGap + tick_h : 0) + kLabelGap;
    draw_text(canvas, spec_.x.label, (area_.x0 + area_.x1) / 2.0, y,
              style(spec_.label_size, Align::centre, VAlign::top));
  }
  if (!spec_.y.label.empty()) {
    int y_tick_w = 0;
    if (spec_.y.tick_labels)
      for (double t : y_ticks_)
        y_tick_w = std::max(y_tick_w, text_width(tick_label(spec_.y, t, step_of(y_ticks_)), spec_.tick_size));
    int x = area_.x0 - 1 - kTickLength - (spec_.y.tick_labels ? kTickGap + y_tick_w : 0) - kLabelGap;
    draw_text(canvas, spec_.y.label, x, (area_.y0 + area_.y1) / 2.0,
              style(spec_.label_size, Align::right, VAlign::middle, true));
  }
  if (!spec_.title.empty()) {
    int w = text_width(spec_.title, spec_.title_size);
    double centre = (area_.x0 + area_.x1) / 2.0;
    centre =
        std::clamp(centre, kPad + w / 2.0, canvas.width() - kPad - w / 2.0);  // long titles stay on the image
    int y = title_top_;
    draw_text(canvas, spec_.title, centre, y, style(spec_.title_size, Align::centre, VAlign::top));
  }
}

}  // namespace sws::plot
