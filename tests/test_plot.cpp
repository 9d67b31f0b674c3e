// Tests for tools/plot: pixels of shapes, text and charts where they must be, PNG and GIF files
// that decode (with stb_image) to what was drawn, and the speed of a 431k-weight histogram.
#include <doctest/doctest.h>
#include <stb_image.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "temp_dir.h"
#include "tools/plot/axes.h"
#include "tools/plot/gif.h"
#include "tools/plot/histogram_chart.h"
#include "tools/plot/line_chart.h"
#include "tools/plot/pareto_chart.h"
#include "tools/plot/png.h"
#include "tools/plot/scatter_chart.h"
#include "tools/plot/shapes.h"
#include "tools/plot/text.h"
#include "tools/plot/trajectory_chart.h"

using namespace sws;
using namespace sws::plot;
using sws::testing::TempDir;

namespace {

int grey_level(Color c) { return (c.r + c.g + c.b) / 3; }
bool is_white(Color c) { return c == colors::white; }
int colour_distance(Color a, Color b) {
  return std::max(
      {std::abs(int(a.r) - int(b.r)), std::abs(int(a.g) - int(b.g)), std::abs(int(a.b) - int(b.b))});
}

// Non-background pixels inside and outside a rectangle.
struct InkCount {
  int inside = 0, outside = 0;
};
InkCount count_ink(const Canvas& c, Rect r) {
  InkCount n;
  for (int y = 0; y < c.height(); ++y)
    for (int x = 0; x < c.width(); ++x)
      if (!is_white(c.at(x, y))) (r.contains(x, y) ? n.inside : n.outside)++;
  return n;
}

// Synthetic weights like a retrained LeNet-5-Caffe's: `pretrained` ~ N(0, 0.05); in `retrained`
// 97% are exact zeros and the rest sit near 12 values in +-0.15.
struct SyntheticModel {
  std::vector<float> pretrained, retrained;
  std::vector<double> means = {-0.15, -0.12, -0.09, -0.065, -0.045, -0.03,
                               0.03,  0.045, 0.065, 0.09,   0.12,   0.15};
};
SyntheticModel synthetic_model(size_t n) {
  SyntheticModel m;
  std::mt19937 rng(7);
  std::normal_distribution<float> pre(0.f, 0.05f), spread(0.f, 0.004f);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  m.pretrained.resize(n), m.retrained.resize(n);
  for (size_t i = 0; i < n; ++i) {
    float w = pre(rng);
    m.pretrained[i] = w;
    // Larger weights survive more often; about 3% in all.
    if (u(rng) < 0.3f * std::min(1.f, std::fabs(w) / 0.15f) * std::fabs(w) / 0.05f * 0.30f) {
      double best = m.means[0];
      for (double mu : m.means)
        if (std::fabs(mu - w) < std::fabs(best - w)) best = mu;
      m.retrained[i] = float(best) + spread(rng);
    } else {
      m.retrained[i] = 0.f;
    }
  }
  return m;
}

std::vector<MixtureComponent> final_mixture(const SyntheticModel& m) {
  std::vector<MixtureComponent> mix = {{0.0, 0.012, 0.97}};
  for (double mu : m.means) mix.push_back({mu, 0.005, 0.03 / 12});
  return mix;
}

// Prior snapshots over 30 epochs: 16 free means move from an even spread over +-0.2 to the 12
// final values (some merging), sigmas shrink.
void synthetic_trajectories(const SyntheticModel& m, std::vector<double>& epochs,
                            std::vector<std::vector<MixtureComponent>>& snapshots) {
  const int J = 17, T = 31;
  std::vector<double> start, end;
  for (int j = 1; j < J; ++j) {
    double s = -0.2 + 0.4 * (j - 1) / (J - 2);
    start.push_back(s);
    double best = m.means[0];
    for (double mu : m.means)
      if (std::fabs(mu - s) < std::fabs(best - s)) best = mu;
    end.push_back(best);
  }
  for (int t = 0; t < T; ++t) {
    epochs.push_back(t);
    double k = std::exp(-t / 6.0);
    std::vector<MixtureComponent> snap = {{0.0, 0.012 + 0.03 * k, 0.999}};
    for (int j = 0; j < J - 1; ++j)
      snap.push_back(
          {end[size_t(j)] + (start[size_t(j)] - end[size_t(j)]) * k, 0.005 + 0.02 * k, 0.001 / 16});
    snapshots.push_back(snap);
  }
}

struct Decoded {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;
};
Decoded decode_png_file(const std::string& path) {
  std::vector<uint8_t> bytes = read_whole_file(path, 64 << 20);
  Decoded d;
  int comp = 0;
  unsigned char* p = stbi_load_from_memory(bytes.data(), int(bytes.size()), &d.width, &d.height, &comp, 3);
  REQUIRE(p != nullptr);
  d.rgb.assign(p, p + size_t(d.width) * size_t(d.height) * 3);
  stbi_image_free(p);
  return d;
}

bool same_pixels(const Canvas& c, const Decoded& d) {
  return d.width == c.width() && d.height == c.height() && std::equal(d.rgb.begin(), d.rgb.end(), c.data());
}

}  // namespace

TEST_CASE("plot: nice ticks are 1, 2 or 5 times a power of ten and labels read well") {
  std::vector<double> t = nice_ticks(-0.23, 0.23, 5);
  REQUIRE(t.size() == 5);
  CHECK(t[0] == doctest::Approx(-0.2));
  CHECK(t[2] == 0.0);
  CHECK(t[4] == doctest::Approx(0.2));
  t = nice_ticks(0, 431080, 5);
  CHECK(t[1] - t[0] == doctest::Approx(100000));
  t = nice_ticks(0, 17, 9);
  CHECK(t[1] - t[0] == doctest::Approx(2));
  t = log_ticks(0.5, 2e5, 8);
  CHECK(t == std::vector<double>{1, 10, 100, 1e3, 1e4, 1e5});
  CHECK(format_tick(-0.05, 0.05) == "\u22120.05");
  CHECK(format_tick(0.1, 0.05) == "0.10");
  CHECK(format_tick(-1e-17, 0.1) == "0");
  CHECK(format_tick(20, 5) == "20");
  CHECK(format_count(1) == "1");
  CHECK(format_count(20000) == "20k");
  CHECK(format_count(2500) == "2.5k");
  CHECK(format_count(1e6) == "1M");
}

TEST_CASE("plot: canvas blends with alpha and clips") {
  Canvas c(20, 10);
  c.blend(3, 3, colors::black, 0.5f);
  CHECK(grey_level(c.at(3, 3)) == 128);
  c.blend(3, 3, colors::black, 1.f);
  CHECK(c.at(3, 3) == colors::black);
  c.set_clip({5, 0, 10, 10});
  c.fill_rect({0, 0, 20, 10}, colors::blue);
  CHECK(c.at(4, 5) == colors::white);
  CHECK(c.at(5, 5) == colors::blue);
  CHECK(c.at(10, 5) == colors::white);
  c.blend(-1, 100, colors::black, 1.f);  // outside: ignored
  CHECK_THROWS_AS(c.at(20, 0), Error);
  CHECK_THROWS_AS(Canvas(0, 10), Error);
}

TEST_CASE("plot: an anti-aliased line covers the pixels between its ends, with shades at its edges") {
  Canvas c(80, 60);
  // On a row's centre: one full row of ink from x = 10 to 50.
  draw_line(c, {10, 20.5}, {50, 20.5}, 1.0, colors::black);
  for (int x = 11; x < 50; ++x) {
    CHECK(c.at(x, 20) == colors::black);
    CHECK(is_white(c.at(x, 19)));
    CHECK(is_white(c.at(x, 21)));
  }
  CHECK(is_white(c.at(5, 20)));
  CHECK(is_white(c.at(55, 20)));
  // On the boundary between two rows: both rows half covered (mid grey).
  draw_line(c, {10, 40}, {50, 40}, 1.0, colors::black);
  for (int x = 12; x < 49; ++x) {
    CHECK(std::abs(grey_level(c.at(x, 39)) - 128) <= 2);
    CHECK(std::abs(grey_level(c.at(x, 40)) - 128) <= 2);
  }
  // A diagonal: dark on its centre line, intermediate shades beside it, nothing far away.
  Canvas d(60, 60);
  draw_line(d, {5, 5}, {55, 45}, 2.0, colors::black);
  int intermediate = 0;
  for (int x = 6; x < 54; ++x) {
    double y = 5 + (x + 0.5 - 5) * 40.0 / 50.0;
    CHECK(grey_level(d.at(x, int(std::floor(y)))) < 90);  // on the line
    CHECK(is_white(d.at(x, std::min(59, int(std::floor(y)) + 4))));
    CHECK(is_white(d.at(x, std::max(0, int(std::floor(y)) - 4))));
    for (int yy = 0; yy < 60; ++yy) {
      int g = grey_level(d.at(x, yy));
      if (g > 20 && g < 235) ++intermediate;
    }
  }
  CHECK(intermediate > 48);  // anti-aliasing: at least one shade per column
}

TEST_CASE("plot: polygons and bands fill their inside with exact edge coverage") {
  Canvas c(40, 40);
  fill_polygon(c, {{10, 10}, {20, 10}, {20, 20}, {10, 20}}, colors::black);
  CHECK(count_ink(c, {10, 10, 20, 20}).inside == 100);
  CHECK(count_ink(c, {10, 10, 20, 20}).outside == 0);
  CHECK(c.at(15, 15) == colors::black);
  // Half a pixel off the grid: the edge columns are half covered.
  Canvas h(40, 40);
  fill_polygon(h, {{10.5, 10}, {20.5, 10}, {20.5, 20}, {10.5, 20}}, colors::black);
  CHECK(std::abs(grey_level(h.at(10, 15)) - 128) <= 2);
  CHECK(std::abs(grey_level(h.at(20, 15)) - 128) <= 2);
  CHECK(h.at(15, 15) == colors::black);
  // A translucent band between two lines; overlapping bands get darker.
  Canvas b(40, 40);
  fill_band(b, {{0, 10}, {40, 10}}, {{0, 20}, {40, 20}}, colors::black, 0.5f);
  fill_band(b, {{0, 15}, {40, 15}}, {{0, 30}, {40, 30}}, colors::black, 0.5f);
  CHECK(grey_level(b.at(5, 12)) == 128);
  CHECK(grey_level(b.at(5, 17)) == 64);
  CHECK(grey_level(b.at(5, 25)) == 128);
  CHECK(is_white(b.at(5, 5)));
  CHECK(is_white(b.at(5, 35)));
}

TEST_CASE("plot: translucent circles show density where they overlap") {
  Canvas c(40, 40);
  fill_circle(c, {10, 10}, 3, colors::black, 0.2f);
  int one = grey_level(c.at(10, 10));
  for (int i = 0; i < 5; ++i) fill_circle(c, {30, 30}, 3, colors::black, 0.2f);
  CHECK(grey_level(c.at(30, 30)) < one - 60);
  CHECK(is_white(c.at(10, 15)));
  CHECK(!is_white(c.at(10, 12)));
}

TEST_CASE("plot: text draws inside its measured box, in its colour, aligned and rotated") {
  const Font& font = Font::default_font();
  TextSize size = font.measure("Weight 0.25", 16);
  CHECK(size.width > 40);
  CHECK(size.height >= 16);
  CHECK(font.measure("Weight 0.25 and more", 16).width > size.width);
  for (bool vertical : {false, true}) {
    for (Align align : {Align::left, Align::centre, Align::right}) {
      Canvas c(200, 200);
      TextStyle s;
      s.size = 16, s.color = colors::blue, s.align = align, s.valign = VAlign::middle, s.vertical = vertical;
      Rect r = draw_text(c, "Weight 0.25", 100, 100, s);
      CHECK(r.width() == (vertical ? size.height : size.width));
      CHECK(r.height() == (vertical ? size.width : size.height));
      CHECK(r.x0 == text_rect("Weight 0.25", 100, 100, s).x0);
      double anchor_x = align == Align::left ? r.x0 : align == Align::centre ? (r.x0 + r.x1) / 2.0 : r.x1;
      CHECK(std::fabs(anchor_x - 100) <= 1);
      CHECK(std::fabs((r.y0 + r.y1) / 2.0 - 100) <= 1);
      InkCount ink = count_ink(c, r);
      CHECK(ink.inside > 80);
      CHECK(ink.outside == 0);
      // Glyph cores in the text colour, edges anti-aliased towards white.
      int exact = 0, shades = 0;
      for (int y = r.y0; y < r.y1; ++y)
        for (int x = r.x0; x < r.x1; ++x) {
          if (c.at(x, y) == colors::blue)
            ++exact;
          else if (!is_white(c.at(x, y)))
            ++shades;
        }
      CHECK(exact > 20);
      CHECK(shades > 20);
    }
  }
  // Vertical text reads bottom to top: the first letter is at the bottom.
  Canvas v(100, 200);
  TextStyle s;
  s.size = 20, s.vertical = true;
  Rect r = draw_text(v, "T....", 50, 20, s);
  int top_ink = count_ink(v, {r.x0, r.y0, r.x1, r.y0 + r.height() / 3}).inside;
  int bottom_ink = count_ink(v, {r.x0, r.y1 - r.height() / 3, r.x1, r.y1}).inside;
  CHECK(bottom_ink > 2 * top_ink);
}

TEST_CASE("plot: the built-in fallback font also stays inside its box") {
  const Font& font = Font::builtin();
  CHECK_FALSE(font.is_truetype());
  Canvas c(200, 100);
  TextStyle s;
  s.size = 14, s.font = &font, s.align = Align::centre;
  Rect r = draw_text(c, "count \u00b1 2\u03c3 = 0.05", 100, 30, s);
  CHECK(r.width() == font.measure("count \u00b1 2\u03c3 = 0.05", 14).width);
  InkCount ink = count_ink(c, r);
  CHECK(ink.inside > 50);
  CHECK(ink.outside == 0);
  CHECK(Font::default_font().is_truetype() ==
        std::filesystem::exists("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"));
  CHECK_THROWS_AS(Font::from_file("/nonexistent/font.ttf"), Error);
}

TEST_CASE("plot: a PNG file decodes to the canvas it was written from") {
  TempDir dir("plot");
  Canvas c(123, 45);
  draw_line(c, {3, 3}, {120, 40}, 2.5, colors::vermillion);
  draw_text(c, "PNG", 5, 5, TextStyle{});
  write_png(c, dir.file("a.png"));
  CHECK(same_pixels(c, decode_png_file(dir.file("a.png"))));
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path), {}) == 1);  // no temporary left
  CHECK_THROWS_AS(write_png(c, dir.file("missing/a.png")), Error);
}

TEST_CASE("plot: an animated GIF decodes to its frames, sizes and delays") {
  TempDir dir("plot");
  const int w = 97, h = 61, frames = 6;
  std::vector<Canvas> source;
  GifEncoder gif(w, h);
  for (int f = 0; f < frames; ++f) {
    Canvas c(w, h);
    // Shapes that move by whole pixels: their anti-aliasing shades repeat, < 256 colours in all.
    c.fill_rect({0, 0, 10 + 10 * f, 20}, colors::blue);
    draw_line(c, {5, 50}, {90, 30}, 2.0, colors::vermillion);
    fill_circle(c, {20.0 + 10 * f, 40}, 6, colors::bluish_green, 0.5f);
    if (f == 3) c = source.back();  // an unchanged frame still counts
    source.push_back(c);
    gif.add_frame(c, 10 + f);
  }
  CHECK(gif.frame_count() == frames);
  gif.write(dir.file("a.gif"));
  std::vector<uint8_t> bytes = read_whole_file(dir.file("a.gif"), 64 << 20);
  REQUIRE(bytes.size() > 800);
  CHECK(std::string(bytes.begin(), bytes.begin() + 6) == "GIF89a");
  CHECK(std::string(bytes.begin(), bytes.end()).find("NETSCAPE2.0") != std::string::npos);
  int *delays = nullptr, x = 0, y = 0, z = 0, comp = 0;
  unsigned char* p =
      stbi_load_gif_from_memory(bytes.data(), int(bytes.size()), &delays, &x, &y, &z, &comp, 3);
  REQUIRE(p != nullptr);
  CHECK(x == w);
  CHECK(y == h);
  CHECK(z == frames);
  for (int f = 0; f < z && f < frames; ++f) {
    CHECK(delays[f] == 10 * (10 + f));  // stb reports milliseconds
    // Few colours: every pixel exact.
    const unsigned char* frame = p + size_t(f) * size_t(w) * size_t(h) * 3;
    CHECK(std::equal(frame, frame + size_t(w) * size_t(h) * 3, source[size_t(f)].data()));
  }
  stbi_image_free(p);
  stbi_image_free(delays);
  CHECK_THROWS_AS(GifEncoder(10, 10).finish(), Error);
  CHECK_THROWS_AS(gif.add_frame(Canvas(10, 10), 5), Error);
}

TEST_CASE("plot: a GIF with more than 256 colours stays close to its frames") {
  const int w = 128, h = 96;
  std::vector<Canvas> source;
  GifEncoder gif(w, h, -1);
  for (int f = 0; f < 3; ++f) {
    Canvas c(w, h);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        c.blend(x, y, Color{uint8_t(2 * x), uint8_t(255 - 2 * y), uint8_t(40 * f)}, 1.f);
    c.fill_rect({10, 10, 60, 30}, colors::white);  // a flat area keeps its exact colour
    draw_text(c, "frame " + std::to_string(f), 12, 12, TextStyle{});
    source.push_back(c);
    gif.add_frame(c, 20);
  }
  std::vector<uint8_t> bytes = gif.finish();
  CHECK(bytes == gif.finish());
  CHECK(std::string(bytes.begin(), bytes.end()).find("NETSCAPE2.0") == std::string::npos);  // loop_count -1
  int *delays = nullptr, x = 0, y = 0, z = 0, comp = 0;
  unsigned char* p =
      stbi_load_gif_from_memory(bytes.data(), int(bytes.size()), &delays, &x, &y, &z, &comp, 3);
  REQUIRE(p != nullptr);
  REQUIRE(z == 3);
  double total_error = 0;
  int worst = 0;
  for (int f = 0; f < 3; ++f)
    for (int i = 0; i < w * h; ++i) {
      const unsigned char* q = p + (size_t(f) * size_t(w * h) + size_t(i)) * 3;
      Color got{q[0], q[1], q[2]}, want = source[size_t(f)].at(i % w, i / w);
      int e = colour_distance(got, want);
      total_error += e, worst = std::max(worst, e);
      if (i == 11 * w + 11) CHECK(got == colors::white);
    }
  CHECK(total_error / (3 * w * h) < 10);  // mean channel error, on a worst case (a smooth gradient)
  CHECK(worst < 40);
  stbi_image_free(p);
  stbi_image_free(delays);
}

TEST_CASE("plot: histogram bars stand at their bins' columns with heights in proportion to counts") {
  std::vector<float> values(100, 0.25f);
  values.insert(values.end(), 50, -0.5f);
  HistogramOptions o;
  o.bins = 20, o.x_min = -1, o.x_max = 1, o.log_counts = false, o.title = "known data";
  HistogramChart chart = histogram_chart(values, o);
  CHECK(chart.canvas.width() == 800);
  CHECK(chart.canvas.height() == 500);
  CHECK(chart.histogram.counts[12] == 100);  // [0.2, 0.3)
  CHECK(chart.histogram.counts[5] == 50);    // [-0.5, -0.4)
  const Axes& a = chart.axes;
  const Rect area = a.plot_area();
  auto bar_top = [&](double x) {  // first row from the top with bar colour in x's column
    int col = int(std::floor(a.x_to_px(x)));
    for (int y = area.y0; y < area.y1; ++y)
      if (chart.canvas.at(col, y) == kHistogramBarColor) return y;
    return area.y1;
  };
  int top100 = bar_top(0.25), top50 = bar_top(-0.45);
  CHECK(top100 == int(std::lround(a.y_to_px(100))));
  CHECK(top50 == int(std::lround(a.y_to_px(50))));
  CHECK(double(area.y1 - top100) / double(area.y1 - top50) == doctest::Approx(2.0).epsilon(0.02));
  // The bar fills its bin's columns and no others.
  int left = int(std::lround(a.x_to_px(0.2))), right = int(std::lround(a.x_to_px(0.3)));
  CHECK(chart.canvas.at(left, area.y1 - 2) == kHistogramBarColor);
  CHECK(chart.canvas.at(right - 1, area.y1 - 2) == kHistogramBarColor);
  CHECK(chart.canvas.at(left - 1, area.y1 - 2) != kHistogramBarColor);
  CHECK(chart.canvas.at(right, area.y1 - 2) != kHistogramBarColor);
  CHECK(bar_top(0.0) == area.y1);  // empty bin
  o.bins = 0;
  CHECK_THROWS_AS(histogram_chart(values, o), Error);
}

TEST_CASE("plot: log counts, excluded zeros and the mixture's marks land where the data says") {
  std::vector<float> values(9000, 0.f);
  values.insert(values.end(), 1000, -0.5f);  // left: the notes go top right
  values.push_back(5.f);                     // outside
  HistogramOptions o;
  o.bins = 21, o.x_min = -1, o.x_max = 1, o.exclude_zeros = true;
  o.mixture = {{0.0, 0.02, 0.9}, {-0.5, 0.02, 0.1}};
  HistogramChart chart = histogram_chart(values, o);
  CHECK(chart.histogram.zeros == 9000);
  CHECK(chart.histogram.outside == 1);
  CHECK(chart.histogram.counts[10] == 0);  // the zeros' bin is empty
  const Axes& a = chart.axes;
  const Rect area = a.plot_area();
  CHECK(a.spec().y.log);
  // Mean markers (triangles at the top) at the means' columns, in their colours.
  int col0 = int(std::floor(a.x_to_px(0.0))), col5 = int(std::floor(a.x_to_px(-0.5)));
  CHECK(colour_distance(chart.canvas.at(col0, area.y0 + 2), colors::vermillion) < 10);
  CHECK(colour_distance(chart.canvas.at(col5, area.y0 + 2), kMeanMarkerColor) < 10);
  CHECK(is_white(chart.canvas.at(col5 + 12, area.y0 + 2)));
  // The density curve peaks over each mean, near the expected count N * bin width * density.
  double expected = 10001 * 0.1 * mixture_density(o.mixture, -0.5);
  int peak_row = area.y1;
  for (int y = area.y0 + 12; y < area.y1; ++y)
    if (grey_level(chart.canvas.at(col5, y)) < 80 && chart.canvas.at(col5, y) != kHistogramBarColor) {
      peak_row = y;
      break;
    }
  CHECK(std::abs(peak_row - a.y_to_px(expected)) <= 3);
  // The log axis puts 1000 at its place: bar top row = y_to_px(1000).
  int bar_col = int(std::floor(a.x_to_px(-0.46)));
  int top = area.y0;
  while (top < area.y1 && chart.canvas.at(bar_col, top) != kHistogramBarColor) ++top;
  CHECK(std::abs(top - int(std::lround(a.y_to_px(1000)))) <= 1);
  // The legend and the zeros note in the header above the plot, on two rows (too wide for one).
  const Rect header = a.header_area();
  CHECK(header.y1 <= area.y0);
  CHECK(header.height() > 2 * Font::default_font().measure("0", 13).height);
  CHECK(count_ink(chart.canvas, header).inside > 300);
}

TEST_CASE("plot: frames of an animation keep one plot area whatever their notes say") {
  HistogramOptions o;
  o.count_max = 1000, o.mixture = {{0.0, 0.02, 0.9}, {0.1, 0.02, 0.1}};
  Rect a = histogram_chart(std::vector<float>{0.1f, 0.2f}, o).axes.plot_area();
  Rect b = histogram_chart(std::vector<float>{0.1f, 5.f, std::nanf("")}, o).axes.plot_area();  // two notes now
  CHECK(a.x0 == b.x0);
  CHECK(a.y0 == b.y0);
  CHECK(a.x1 == b.x1);
  CHECK(a.y1 == b.y1);
}

TEST_CASE("plot: trajectory and scatter charts put components and points at their values") {
  std::vector<double> epochs;
  std::vector<std::vector<MixtureComponent>> snapshots;
  for (int t = 0; t <= 10; ++t) {
    epochs.push_back(t);
    snapshots.push_back({{0.0, 0.01, 0.99}, {0.1 - 0.005 * t, 0.01, 0.01}});
  }
  TrajectoryChart tc = trajectory_chart(epochs, snapshots, TrajectoryOptions{});
  const Axes& a = tc.axes;
  // Component 1's line passes through (5, 0.075) in its colour; the zero line through (5, 0).
  int x = int(std::floor(a.x_to_px(5))), y1 = int(std::floor(a.y_to_px(0.075))),
      y0 = int(std::floor(a.y_to_px(0)));
  CHECK(colour_distance(tc.canvas.at(x, y1), component_color(1)) < 40);
  CHECK(colour_distance(tc.canvas.at(x, y0), colors::vermillion) < 40);
  snapshots[3].pop_back();
  CHECK_THROWS_AS(trajectory_chart(epochs, snapshots, TrajectoryOptions{}), Error);

  // 150k weights at (0.1, 0.05): subsampled to 1000 points, all on one spot.
  std::vector<float> pre(150000, 0.1f), post(150000, 0.05f);
  pre[0] = -0.2f, post[0] = -0.2f;
  ScatterOptions so;
  so.max_points = 1000;
  ScatterChart sc = scatter_chart(pre, post, {{0.0, 0.01, 0.9}, {0.05, 0.01, 0.1}}, so);
  CHECK(sc.points_drawn == 1000);
  CHECK(sc.canvas.width() == 800);
  CHECK(sc.canvas.height() == 800);
  Color spot = sc.canvas.at(int(std::floor(sc.main.x_to_px(0.1))), int(std::floor(sc.main.y_to_px(0.05))));
  CHECK(grey_level(spot) < 60);
  // The panels share the main panel's axes.
  CHECK(sc.top.x_to_px(0.1) == doctest::Approx(sc.main.x_to_px(0.1)));
  CHECK(sc.right.y_to_px(0.05) == doctest::Approx(sc.main.y_to_px(0.05)));
  CHECK_THROWS_AS(scatter_chart(pre, std::vector<float>(3), {}, so), Error);
}

TEST_CASE("plot: a line chart puts each series at its values, in its colour") {
  LineChartOptions o;
  o.x_label = "epoch", o.y_label = "accuracy (%)";
  LineChart lc = line_chart({{"unquantised", {1, 2, 3, 4}, {98, 98, 98, 98}, colors::blue, 2.2},
                             {"snapped", {1, 2, 3, 4}, {20, 40, 60, 80}, colors::vermillion, 2.2}},
                            o);
  const Axes& a = lc.axes;
  // The flat line at 98 and the rising one through (2.5, 50).
  CHECK(colour_distance(lc.canvas.at(int(std::floor(a.x_to_px(2.5))), int(std::floor(a.y_to_px(98)))), colors::blue) < 40);
  CHECK(colour_distance(lc.canvas.at(int(std::floor(a.x_to_px(2.5))), int(std::floor(a.y_to_px(50)))), colors::vermillion) < 60);
  CHECK(a.spec().y.min < 20);
  CHECK(a.spec().y.max > 98);
  CHECK_THROWS_AS(line_chart({{"bad", {1, 2}, {1}, colors::blue, 2}}, o), Error);
  CHECK_THROWS_AS(line_chart({}, o), Error);
  CHECK_THROWS_AS(line_chart({{"nan", {1}, {std::nan("")}, colors::blue, 2}}, o), Error);
}

TEST_CASE("plot: the Pareto front keeps exactly the points nothing beats in both size and error") {
  // (size, error): (1, 5) and (4, 1) are on the front; (2, 6) loses to (1, 5); (3, 3) is on it;
  // (5, 1) ties (4, 1) in error at a larger size; (3, 3) twice counts once.
  const std::vector<ParetoPoint> points{{2, 6, ""}, {4, 1, ""}, {1, 5, ""}, {3, 3, ""}, {5, 1, ""}, {3, 3, ""}};
  const std::vector<ParetoPoint> front = pareto_front(points);
  REQUIRE(front.size() == 3);
  CHECK(front[0].size == 1);
  CHECK(front[0].error == 5);
  CHECK(front[1].size == 3);
  CHECK(front[2].size == 4);
  CHECK(front[2].error == 1);
  CHECK(pareto_front({}).empty());
}

TEST_CASE("plot: a Pareto chart puts trials on a log size axis, the front as a staircase") {
  ParetoChartOptions o;
  ParetoSeries trials{"trials", {{1000, 2.0, ""}, {10000, 1.0, ""}}, colors::blue, 4.0, 1.f, false};
  ParetoSeries paper{"published", {{3000, 1.5, "a paper"}}, colors::vermillion, 5.0, 1.f, true};
  ParetoChart pc = pareto_chart({trials, paper}, 1, o);
  const Axes& a = pc.axes;
  CHECK(a.spec().x.log);
  CHECK(a.spec().x.min == 1000);  // whole powers of ten around the sizes, the largest inside
  CHECK(a.spec().x.max == 100000);
  CHECK(a.x_to_px(10000) - a.x_to_px(1000) == doctest::Approx(a.x_to_px(100000) - a.x_to_px(10000)));  // decades alike
  CHECK(colour_distance(pc.canvas.at(int(a.x_to_px(3000)), int(a.y_to_px(1.5))), colors::vermillion) < 60);
  // The staircase: from (1000, 2) along error 2 to size 10000, down to error 1.
  CHECK(colour_distance(pc.canvas.at(int(a.x_to_px(5000)), int(a.y_to_px(2.0))), colors::black) < 120);
  int darkest = 1000;  // the vertical step at 10000 bytes, within a pixel of it
  for (int dx = -1; dx <= 1; ++dx)
    darkest = std::min(darkest, colour_distance(pc.canvas.at(int(a.x_to_px(10000)) + dx, int(a.y_to_px(1.5))), colors::black));
  CHECK(darkest < 120);
  CHECK_THROWS_AS(pareto_chart({{"bad", {{0, 1, ""}}, colors::blue, 3, 1, false}}, 1, o), Error);
  CHECK_THROWS_AS(pareto_chart({{"none", {}, colors::blue, 3, 1, false}}, 1, o), Error);
}

TEST_CASE("plot: every chart's PNG decodes at its size") {
  TempDir dir("plot");
  SyntheticModel m = synthetic_model(20000);
  HistogramOptions ho;
  ho.exclude_zeros = true, ho.mixture = final_mixture(m);
  write_png(histogram_chart(m.retrained, ho).canvas, dir.file("h.png"));
  std::vector<double> epochs;
  std::vector<std::vector<MixtureComponent>> snapshots;
  synthetic_trajectories(m, epochs, snapshots);
  write_png(trajectory_chart(epochs, snapshots, TrajectoryOptions{}).canvas, dir.file("t.png"));
  write_png(scatter_chart(m.pretrained, m.retrained, final_mixture(m), ScatterOptions{}).canvas,
            dir.file("s.png"));
  for (const char* name : {"h.png", "t.png", "s.png"}) {
    Decoded d = decode_png_file(dir.file(name));
    CHECK(d.width == 800);
    CHECK(d.height == (name[0] == 's' ? 800 : 500));
  }
}

TEST_CASE("plot: a histogram frame of 431,080 weights takes a few milliseconds") {
  SyntheticModel m = synthetic_model(431080);
  HistogramOptions o;
  o.exclude_zeros = true, o.mixture = final_mixture(m), o.count_max = 431080;
  histogram_chart(m.retrained, o);  // warm the glyph cache, as an animation's later frames find it
  auto start = std::chrono::steady_clock::now();
  const int reps = 5;
  for (int i = 0; i < reps; ++i) histogram_chart(m.retrained, o);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / reps;
  MESSAGE("histogram frame, 431,080 weights, with mixture: " << ms << " ms");
  CHECK(ms < 500);  // the budget: 5% of a 10 s epoch
}

// Writes the demo figures to $SWS_PLOT_DEMO_DIR (skipped when unset), e.g.
//   SWS_PLOT_DEMO_DIR=docs/figures-demo ./build/sws_tests -tc='plot: demo*'
TEST_CASE("plot: demo figures") {
  const char* out = std::getenv("SWS_PLOT_DEMO_DIR");
  if (!out) return;
  const std::string dir = out;
  SyntheticModel m = synthetic_model(431080);
  std::vector<double> epochs;
  std::vector<std::vector<MixtureComponent>> snapshots;
  synthetic_trajectories(m, epochs, snapshots);
  using clock = std::chrono::steady_clock;
  auto ms_since = [](clock::time_point t) {
    return std::chrono::duration<double, std::milli>(clock::now() - t).count();
  };

  HistogramOptions h;
  h.title = "Pretrained weights (LeNet-5-Caffe, synthetic)";
  write_png(histogram_chart(m.pretrained, h).canvas, dir + "/histogram_pretrained.png");
  h.title = "Retrained weights with the learned prior";
  h.exclude_zeros = true, h.mixture = final_mixture(m);
  write_png(histogram_chart(m.retrained, h).canvas, dir + "/histogram_mixture.png");
  h.log_counts = false, h.title = "Retrained weights, linear count axis";
  write_png(histogram_chart(m.retrained, h).canvas, dir + "/histogram_linear.png");

  TrajectoryOptions t;
  t.title = "Mixture components during retraining";
  write_png(trajectory_chart(epochs, snapshots, t).canvas, dir + "/trajectories.png");

  ScatterOptions s;
  s.title = "Pretrained against retrained weights";
  auto start = clock::now();
  ScatterChart sc = scatter_chart(m.pretrained, m.retrained, final_mixture(m), s);
  MESSAGE("scatter of 431,080 weights: " << ms_since(start) << " ms");
  write_png(sc.canvas, dir + "/scatter.png");

  // An animation: the weights moving from pretrained to retrained over 30 epochs.
  GifEncoder gif(800, 500);
  HistogramOptions f;
  f.count_max = 431080 * 2;
  double draw_ms = 0;
  for (size_t e = 0; e < snapshots.size(); ++e) {
    double k = std::exp(-double(e) / 6.0);
    std::vector<float> w(m.retrained.size());
    for (size_t i = 0; i < w.size(); ++i)
      w[i] = e + 1 == snapshots.size() ? m.retrained[i]
                                       : float(m.retrained[i] + (m.pretrained[i] - m.retrained[i]) * k);
    f.title = "Weights and prior, epoch " + std::to_string(e);
    f.mixture = snapshots[e];
    start = clock::now();
    Canvas frame = histogram_chart(w, f).canvas;
    draw_ms += ms_since(start);
    start = clock::now();
    gif.add_frame(frame, e + 1 == snapshots.size() ? 300 : 25);
  }
  start = clock::now();
  gif.write(dir + "/histogram_animation.gif");
  MESSAGE("animation: " << draw_ms / double(snapshots.size()) << " ms per frame drawn, finish+write "
                        << ms_since(start) << " ms for " << gif.frame_count() << " frames");
}
