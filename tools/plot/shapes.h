// Anti-aliased shapes on a Canvas: lines, polylines, filled polygons and bands, circles. Each
// computes a coverage in [0, 1] per pixel and blends its colour with opacity alpha * coverage, so
// edges get intermediate shades and translucent shapes show where they overlap. Coordinates are
// continuous: pixel (x, y) covers [x, x+1) x [y, y+1), its centre is (x + 0.5, y + 0.5).
#pragma once
#include <vector>

#include "tools/plot/canvas.h"

namespace sws::plot {

// A line of `width` pixels with round ends from a to b.
void draw_line(Canvas& canvas, Point a, Point b, double width, Color color, float alpha = 1.f);

// Connected segments through `points`. Coverage is the maximum over the segments, not their sum,
// so joints are not darker than the line even when it is translucent.
void draw_polyline(Canvas& canvas, const std::vector<Point>& points, double width, Color color,
                   float alpha = 1.f);

// The inside of the closed polygon through `points` (non-zero winding rule), with exact
// horizontal coverage and 4 sub-scanlines per row for the edges.
void fill_polygon(Canvas& canvas, const std::vector<Point>& points, Color color, float alpha = 1.f);

// The region between two polylines over the same x values (e.g. mean - 2 sigma and mean + 2
// sigma over epochs): the polygon `upper` forward then `lower` backward.
void fill_band(Canvas& canvas, const std::vector<Point>& upper, const std::vector<Point>& lower, Color color,
               float alpha);

// A filled disc: scatter markers. Small alpha makes dense regions darker than sparse ones.
void fill_circle(Canvas& canvas, Point centre, double radius, Color color, float alpha = 1.f);

}  // namespace sws::plot
