// Pruning after assignment, guided by the validation error (issue 16): once every weight sits on
// a shared value, whole groups -- the weights of one tensor that share one non-zero value --
// are set to zero, the smallest |value| first, each kept only while the validation accuracy
// stays within a budget of its value before pruning. Codebook fine-tuning (if any) follows.
#pragma once
#include <cstdint>

#include <nlohmann/json.hpp>

#include "nn/dataset.h"
#include "nn/module.h"

namespace sws {

// What pruning tried and kept.
struct ValidationPruningResult {
  int64_t groups = 0, groups_zeroed = 0, weights_zeroed = 0;  // groups tried, kept at zero; their weights
  double accuracy_before = 0, accuracy_after = 0, seconds = 0;  // on the validation set; the time taken
  nlohmann::json to_json(double budget) const;  // as stored in metrics.json
};

// Tries every (tensor, non-zero value) group of the quantised `model` in order of increasing
// |value| (ties: the tensors' order): zeroes it, evaluates on `validation` and keeps the zeros
// if the accuracy is at least the accuracy before pruning minus `budget` (a fraction: 0.002 =
// 0.2 points), else restores the group. One evaluation per group. Throws sws::Error for a
// budget outside [0, 1] or an empty validation set; budget 0 still keeps groups that cost
// nothing.
ValidationPruningResult prune_by_validation(Module& model, const Dataset& validation, double budget);

}  // namespace sws
