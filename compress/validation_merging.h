// Merging after assignment, guided by the validation error (issue 16): once every weight sits on
// one of the shared values (after pruning and dead units, so that the means are over the weights
// that stay), two neighbouring non-zero values on the same side of zero become one
// -- their weights' mean -- while the validation accuracy stays within a budget of its value
// before merging. Fewer distinct values cost fewer bits per non-zero weight in the .sws file (its
// value streams); codebook fine-tuning (if any) follows and moves the merged values.
#pragma once
#include <cstdint>

#include <nlohmann/json.hpp>

#include "nn/dataset.h"
#include "nn/module.h"

namespace sws {

// What merging tried and kept.
struct ValidationMergingResult {
  int64_t values_before = 0, values_after = 0;  // distinct non-zero values over all parameters
  int64_t evaluations = 0;                      // validation passes, the one before merging included
  double accuracy_before = 0, accuracy_after = 0, seconds = 0;  // on the validation set; the time taken
  nlohmann::json to_json(double budget) const;  // as stored in metrics.json
};

// Greedy: in each round every pair of neighbouring non-zero values of the same sign (over all of
// the model's parameters: the values are shared across tensors) is merged on trial into the mean
// of their weights, mu = (n_a a + n_b b) / (n_a + n_b), and evaluated on `validation`; the pair
// with the best accuracy (ties: the smaller growth of the squared quantisation error,
// n_a n_b / (n_a + n_b) (a - b)^2, then the lower pair) is kept if that accuracy is at least the
// accuracy before merging minus `budget` (a fraction: 0.002 = 0.2 points); otherwise merging
// stops and every weight is as the last kept merge left it. Zero is never merged. The bound has a
// 1e-9 slack for the float rounding of `before - budget`, which pruning by validation (older, its
// results reproduced bit for bit by presets) does not have. Throws
// sws::Error for a budget outside [0, 1], an empty validation set or parameters that are not
// contiguous F32 on the CPU.
ValidationMergingResult merge_by_validation(Module& model, const Dataset& validation, double budget);

}  // namespace sws
