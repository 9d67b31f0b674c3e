#include "tools/plot/histogram.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace sws::plot {

uint64_t Histogram::max_count() const {
  return counts.empty() ? 0 : *std::max_element(counts.begin(), counts.end());
}

Histogram bin_values(const std::vector<float>& values, int bins, double lo, double hi, bool exclude_zeros) {
  SWS_CHECK(bins >= 1 && bins <= 100000,
            "histogram bin count " + std::to_string(bins) + " is out of range 1..100000");
  SWS_CHECK(
      std::isfinite(lo) && std::isfinite(hi) && lo < hi,
      "histogram range [" + std::to_string(lo) + ", " + std::to_string(hi) + "] is empty or not finite");
  Histogram h;
  h.lo = lo, h.hi = hi, h.zeros_excluded = exclude_zeros;
  h.counts.assign(size_t(bins), 0);
  h.total = values.size();
  const double scale = bins / (hi - lo);
  for (float v : values) {
    if (!std::isfinite(v)) {
      ++h.non_finite;
      continue;
    }
    if (v == 0.f) {
      ++h.zeros;
      if (exclude_zeros) continue;
    }
    if (v < lo || v > hi) {
      ++h.outside;
      continue;
    }
    int i = std::min(bins - 1, int((double(v) - lo) * scale));
    ++h.counts[size_t(i)];
  }
  return h;
}

}  // namespace sws::plot
