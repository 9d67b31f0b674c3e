// Stage 3: merge the mixture's components, snap the weights to the means, and account for the
// result (per tensor: parameters, non-zeros, distinct values, the paper's bits).
#pragma once
#include <nlohmann/json.hpp>

#include "compress/gaussian_mixture_prior.h"
#include "compress/paper_accounting.h"
#include "compress/quantize.h"
#include "nn/dataset.h"
#include "nn/sequential.h"
#include "tools/codebook_finetune.h"

namespace sws {

struct PostprocessConfig {
  double merge_kl = 1e-10;  // merge components closer than this (the tutorial's threshold)
  Assignment rule = Assignment::MaximumAPosteriori;
  CodebookFinetuneConfig finetune;  // epochs 0: the paper's post-processing, nothing more
};

// Fills the settings left at "preset": one epoch of codebook fine-tuning for LeNet-5-Caffe (it
// takes the paper's operating point from 1.01% to 0.96% error at the same size; README), none
// for the others. Throws sws::Error for an invalid setting.
void apply_postprocess_preset(const std::string& model, PostprocessConfig& config);

struct PostprocessResult {
  double accuracy_before = 0, accuracy_after = 0, nonzero_fraction = 0, seconds = 0;
  int64_t distinct_values = 0;  // distinct non-zero values over the whole model
  PaperAccount account;
  nlohmann::json metrics;
};

// Quantises `model` in place with the learned prior, optionally fine-tunes the shared values on
// `train` (config.finetune), and measures test accuracy before and after.
PostprocessResult postprocess(Sequential& model, const GaussianMixturePrior& prior, const Dataset& train,
                              const Dataset& test, const PostprocessConfig& config);

// A Markdown table of the per-tensor account and the total.
std::string account_table(const PaperAccount& account);

}  // namespace sws
