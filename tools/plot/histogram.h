// Binning for the weight histograms: counts over a fixed range, so that the frames of an
// animation (one per epoch) share their bins.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sws::plot {

struct Histogram {
  double lo = 0, hi = 1;         // the binned range; bin i covers [lo + i w, lo + (i+1) w)
  std::vector<uint64_t> counts;  // per bin
  uint64_t total = 0;            // every value given, binned or not
  uint64_t zeros = 0;            // exact zeros among them
  bool zeros_excluded = false;   // true: the zeros are in no bin
  uint64_t outside = 0;          // finite values outside [lo, hi], in no bin
  uint64_t non_finite = 0;       // NaN or infinite values, in no bin

  double bin_width() const { return (hi - lo) / double(counts.size()); }
  double bin_lo(size_t i) const { return lo + double(i) * bin_width(); }
  double bin_hi(size_t i) const { return lo + double(i + 1) * bin_width(); }
  uint64_t max_count() const;
};

// Counts `values` in `bins` equal bins over [lo, hi] (the value hi goes to the last bin). With
// exclude_zeros, exact zeros are counted in Histogram::zeros only: in a pruned model they are
// 95-99% of the weights and would flatten every other bar. Throws sws::Error for bins < 1 or an
// empty or non-finite range. Tip: an odd bin count over a range symmetric about 0 puts 0 in the
// middle of a bin.
Histogram bin_values(const std::vector<float>& values, int bins, double lo, double hi,
                     bool exclude_zeros = false);

}  // namespace sws::plot
