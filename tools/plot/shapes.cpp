#include "tools/plot/shapes.h"

#include <algorithm>
#include <cmath>

namespace sws::plot {
namespace {

// Coverage of a pixel whose centre is at distance d from the centre line of a stroke of
// half-width hw: 1 inside, 0 beyond, a one-pixel linear ramp across the edge.
inline float edge_coverage(double hw, double d) { return float(std::clamp(hw + 0.5 - d, 0.0, 1.0)); }

// Distance from p to the segment a-b.
double segment_distance(Point p, Point a, Point b) {
  double dx = b.x - a.x, dy = b.y - a.y;
  double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  double ex = a.x + t * dx - p.x, ey = a.y + t * dy - p.y;
  return std::sqrt(ex * ex + ey * ey);
}

int floor_int(double v) { return int(std::floor(v)); }

}  // namespace

void draw_line(Canvas& canvas, Point a, Point b, double width, Color color, float alpha) {
  draw_polyline(canvas, {a, b}, width, color, alpha);
}

void draw_polyline(Canvas& canvas, const std::vector<Point>& points, double width, Color color, float alpha) {
  if (points.empty()) return;
  const double hw = width / 2;
  const double reach = hw + 1;
  double lo_x = points[0].x, hi_x = lo_x, lo_y = points[0].y, hi_y = lo_y;
  for (const Point& p : points) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) return;  // nothing sensible to draw
    lo_x = std::min(lo_x, p.x), hi_x = std::max(hi_x, p.x);
    lo_y = std::min(lo_y, p.y), hi_y = std::max(hi_y, p.y);
  }
  Rect box = Rect{floor_int(lo_x - reach), floor_int(lo_y - reach), floor_int(hi_x + reach) + 1,
                  floor_int(hi_y + reach) + 1}
                 .intersect(canvas.clip());
  if (box.empty()) return;
  // One coverage mask over the bounding box, max over segments, blended once at the end.
  std::vector<float> mask(size_t(box.width()) * size_t(box.height()), 0.f);
  auto cover_segment = [&](Point a, Point b) {
    Rect r = Rect{floor_int(std::min(a.x, b.x) - reach), floor_int(std::min(a.y, b.y) - reach),
                  floor_int(std::max(a.x, b.x) + reach) + 1, floor_int(std::max(a.y, b.y) + reach) + 1}
                 .intersect(box);
    for (int y = r.y0; y < r.y1; ++y) {
      float* row = &mask[size_t(y - box.y0) * size_t(box.width())];
      for (int x = r.x0; x < r.x1; ++x) {
        float c = edge_coverage(hw, segment_distance(Point{x + 0.5, y + 0.5}, a, b));
        float& m = row[x - box.x0];
        m = std::max(m, c);
      }
    }
  };
  if (points.size() == 1) cover_segment(points[0], points[0]);
  for (size_t i = 1; i < points.size(); ++i) cover_segment(points[i - 1], points[i]);
  for (int y = box.y0; y < box.y1; ++y) {
    const float* row = &mask[size_t(y - box.y0) * size_t(box.width())];
    for (int x = box.x0; x < box.x1; ++x)
      if (row[x - box.x0] > 0.f) canvas.blend(x, y, color, alpha * row[x - box.x0]);
  }
}

void fill_polygon(Canvas& canvas, const std::vector<Point>& points, Color color, float alpha) {
  if (points.size() < 3) return;
  struct Edge {
    double y_top, y_bottom, x_at_top, dx_dy;
    int winding;  // +1 going down, -1 going up
  };
  std::vector<Edge> edges;
  double lo_y = points[0].y, hi_y = lo_y;
  for (size_t i = 0; i < points.size(); ++i) {
    Point p = points[i], q = points[(i + 1) % points.size()];
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) return;
    lo_y = std::min(lo_y, p.y), hi_y = std::max(hi_y, p.y);
    if (p.y == q.y) continue;  // horizontal edges cross no scanline
    int winding = q.y > p.y ? 1 : -1;
    if (q.y < p.y) std::swap(p, q);
    edges.push_back({p.y, q.y, p.x, (q.x - p.x) / (q.y - p.y), winding});
  }
  std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) { return a.y_top < b.y_top; });

  const Rect clip = canvas.clip();
  if (clip.empty()) return;
  const int y_begin = std::max(clip.y0, floor_int(lo_y));
  const int y_end = std::min(clip.y1, floor_int(hi_y) + 1);
  constexpr int kSub = 4;  // sub-scanlines per pixel row
  const float sub_weight = 1.f / kSub;
  std::vector<float> coverage(size_t(clip.width()), 0.f);
  std::vector<const Edge*> active;
  std::vector<std::pair<double, int>> crossings;
  size_t next_edge = 0;  // edges before it have started (sorted by y_top)

  // Adds sub_weight times the overlap of [xa, xb) with each pixel column to that column.
  auto add_span = [&](double xa, double xb, int& touched_lo, int& touched_hi) {
    xa = std::max(xa, double(clip.x0)), xb = std::min(xb, double(clip.x1));
    if (xb <= xa) return;
    int ia = floor_int(xa), ib = std::min(floor_int(xb), clip.x1 - 1);
    touched_lo = std::min(touched_lo, ia), touched_hi = std::max(touched_hi, ib);
    if (ia == ib) {
      coverage[ia - clip.x0] += float(xb - xa) * sub_weight;
      return;
    }
    coverage[ia - clip.x0] += float(ia + 1 - xa) * sub_weight;
    for (int i = ia + 1; i < ib; ++i) coverage[i - clip.x0] += sub_weight;
    coverage[ib - clip.x0] += float(xb - ib) * sub_weight;
  };

  for (int y = y_begin; y < y_end; ++y) {
    int touched_lo = clip.x1, touched_hi = clip.x0 - 1;
    for (int s = 0; s < kSub; ++s) {
      double sy = y + (s + 0.5) / kSub;
      while (next_edge < edges.size() && edges[next_edge].y_top <= sy) active.push_back(&edges[next_edge++]);
      active.erase(
          std::remove_if(active.begin(), active.end(), [sy](const Edge* e) { return e->y_bottom <= sy; }),
          active.end());
      if (active.empty()) continue;
      crossings.clear();
      for (const Edge* e : active)
        crossings.push_back({e->x_at_top + (sy - e->y_top) * e->dx_dy, e->winding});
      std::sort(crossings.begin(), crossings.end());
      int winding = 0;
      for (size_t i = 0; i + 1 < crossings.size(); ++i) {
        winding += crossings[i].second;
        if (winding != 0) add_span(crossings[i].first, crossings[i + 1].first, touched_lo, touched_hi);
      }
    }
    for (int x = touched_lo; x <= touched_hi; ++x) {
      float& c = coverage[x - clip.x0];
      if (c > 0.f) canvas.blend(x, y, color, alpha * std::min(c, 1.f));
      c = 0.f;
    }
  }
}

void fill_band(Canvas& canvas, const std::vector<Point>& upper, const std::vector<Point>& lower, Color color,
               float alpha) {
  std::vector<Point> polygon(upper);
  polygon.insert(polygon.end(), lower.rbegin(), lower.rend());
  fill_polygon(canvas, polygon, color, alpha);
}

void fill_circle(Canvas& canvas, Point centre, double radius, Color color, float alpha) {
  if (!std::isfinite(centre.x) || !std::isfinite(centre.y)) return;
  Rect r = Rect{floor_int(centre.x - radius - 1), floor_int(centre.y - radius - 1),
                floor_int(centre.x + radius + 1) + 1, floor_int(centre.y + radius + 1) + 1}
               .intersect(canvas.clip());
  for (int y = r.y0; y < r.y1; ++y)
    for (int x = r.x0; x < r.x1; ++x) {
      double dx = x + 0.5 - centre.x, dy = y + 0.5 - centre.y;
      float c = edge_coverage(radius, std::sqrt(dx * dx + dy * dy));
      if (c > 0.f) canvas.blend(x, y, color, alpha * c);
    }
}

}  // namespace sws::plot
