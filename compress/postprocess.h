// Stage 3: merge the mixture's components, snap the weights to the means, optionally fine-tune
// the shared values, and account for the result (per tensor: parameters, non-zeros, distinct
// values, the paper's bits).
#pragma once
#include <optional>

#include <nlohmann/json.hpp>

#include "compress/codebook_finetune.h"
#include "compress/gaussian_mixture_prior.h"
#include "compress/paper_accounting.h"
#include "compress/quantize.h"
#include "compress/stage_run.h"

namespace sws {

// Every setting of post-processing; `sws run` and `sws quantize` take each from a flag.
struct PostprocessSettings {
  SnapSettings snap;                  // merging (by KL, within widths) and the assignment rule
  // Set: after assignment, prune (tensor, value) groups while the validation accuracy stays
  // within this of its value (compress/validation_pruning.h): --prune-budget. Unset: off.
  std::optional<double> prune_budget;
  // After that, remove dead units exactly (compress/dead_units.h): --remove-dead-units.
  bool remove_dead_units = false;
  // Set: then merge neighbouring shared values (not the mixture's components: that is `snap`)
  // while the validation accuracy stays within this of its value before merging
  // (compress/validation_merging.h): --merge-budget. Unset: off.
  std::optional<double> merge_budget;
  CodebookFinetuneSettings finetune;  // epochs 0: the paper's post-processing, nothing more
};

// Throws sws::Error naming the first invalid setting.
void validate(const PostprocessSettings& settings);

// The settings as stored in metrics.
nlohmann::json to_json(const PostprocessSettings& settings);

// What post-processing measured and produced.
struct PostprocessResult {
  double accuracy_before = 0, accuracy_after = 0;  // the first evaluation's accuracy (0 without one)
  int64_t components_merged = 0;                    // learned components minus those left after merging
  double nonzero_fraction = 0, seconds = 0;  // of all parameters; the stage's time
  int64_t distinct_values = 0;  // distinct non-zero values over the whole model
  PaperAccount account;         // the paper's accounting (compress/paper_accounting.h)
  nlohmann::json metrics;       // {"stage": "quantized", accuracies before and after, per tensor, ...}
};

// Quantises `model` in place with the learned prior, optionally fine-tunes the shared values on
// `train` (settings.finetune), and measures run.evaluations' accuracies before and after. Throws
// sws::Error when every weight went to the zero component.
PostprocessResult postprocess(Module& model, const GaussianMixturePrior& prior, const PostprocessSettings& settings,
                              const Dataset& train, const StageRun& run);

}  // namespace sws
