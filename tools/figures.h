// The figures of a run (tools/plot/ draws them), all under RUN_DIR/figures/:
//   reference.png       histogram of the pretrained weights with the prior's initial mixture
//   retrained.png       histogram of the retrained weights with the learned mixture
//   post-processed.png  the quantised weights (exact zeros reported, not drawn)
//   trajectories.png    each component's mean over the epochs with its +-2 sigma band (Fig. 3 left)
//   gap.png             validation accuracy over the epochs, unquantised and snapped (the quantisation gap)
//   scatter.png         pretrained against retrained weights with the final bands (Fig. 3 right)
//   frames/epoch_NNN.png and retraining.gif: the weight histogram after every epoch
// The retraining loop stores each epoch's histogram counts (121 bins over a range fixed from
// the pretrained weights) in metrics.json, so `sws plot RUN_DIR` redraws everything from the
// run's checkpoints and metrics alone.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"

namespace sws {

// Bins every weight of `weights` over [-limit, limit] into the JSON kept per epoch:
// {"limit", "counts", "total", "outside"}.
nlohmann::json weight_histogram(const std::vector<Tensor>& weights, double limit);

// The film's histogram range for a run: 1.2 x the largest |w| of the pretrained weights, the
// range the prior's means start in (rounded to 2 digits). The final figures widen it if
// retraining moved weights further out.
double histogram_limit(const std::vector<Tensor>& pretrained);

// Draws epoch `epoch`'s frame from its stored histogram and prior snapshot
// ({"means","precisions","mixing_proportions"}) into RUN_DIR/figures/frames/epoch_NNN.png.
void draw_epoch_frame(const std::string& run_dir, int64_t epoch, int64_t epochs, const std::string& model,
                      const nlohmann::json& histogram, const nlohmann::json& prior_snapshot);

// The JSON file at `path` (a run's metrics.json, a sweep's trials.json), parsed. Throws
// sws::Error naming the file if it is missing, over 512 MiB or malformed.
nlohmann::json read_json_file(const std::string& path);

// Draws every figure of a finished run from RUN_DIR's checkpoints and metrics.json: the five
// PNGs, the frames (when `frames`) and retraining.gif. Returns the seconds it took.
double draw_run_figures(const std::string& run_dir, bool frames);

}  // namespace sws
