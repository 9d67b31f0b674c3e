// Soft weight-sharing of any module in one call: pretrain (or start from trained weights),
// retrain under the mixture prior, post-process, and write the compressed model, with every
// stage resumable after a crash or a kill. Files, all written atomically, under run.out_dir:
//   checkpoints/pretrain.safetensors, checkpoints/retrain.safetensors  per-epoch resume states
//   pretrained.safetensors, retrained.safetensors, quantized.safetensors  the model after each stage
//   prior.safetensors  the learned mixture (compress/prior_file.h)
//   model.sws          the compressed model (docs/FORMAT.md; compress/sws_module.h reads it back)
//   metrics.json       every stage's settings, per-epoch records, accuracies and the compression
//
//   sws::PipelineSettings settings = sws::preset_settings("mlp");   // or set every field yourself
//   sws::PipelineRun run;
//   run.out_dir = "runs/mlp", run.architecture = "mlp-784-128-64-10", run.resume = true;
//   sws::PipelineResult result = sws::compress_model(net, settings, train, test, run);
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/presets.h"
#include "optim/training_loop.h"

namespace sws {

// How the pipeline runs, apart from the method's settings: files, resume, threads, reporting.
struct PipelineRun {
  std::string out_dir;                 // required: the run's folder (created if missing)
  std::string architecture = "model";  // the model's name in the checkpoints and the .sws file
  std::vector<std::pair<std::string, std::string>> sws_config;  // key/values stored in the .sws file
  bool pretrain = true;   // false: the model arrives trained, stage 1 only measures it
  bool resume = false;    // continue from out_dir/checkpoints/ when they exist (a fresh run otherwise)
  int threads = 0;        // CPU threads; 0: the checkpoint's count on a resume, else core/threads.h's choice
  std::string test_name = "test_accuracy";  // the key under which accuracy on `test` is recorded
  TrainingObserver observer;  // every stage reports here (optim/console_observer.h prints)
  // Called as each stage starts ("pretraining", "retraining", "post-processing") with the model
  // as it is then (figures take the pretrained weights' range here).
  std::function<void(const std::string& stage, Module& model)> on_stage;
};

// What the run produced; metrics is metrics.json's content.
struct PipelineResult {
  double pretrained_accuracy = 0, retrained_accuracy = 0, quantized_accuracy = 0;  // on `test`, after each stage
  double nonzero_fraction = 0;  // of all parameters, after post-processing
  double paper_rate = 0;        // the paper's accounting (compress/paper_accounting.h)
  int64_t file_bytes = 0;       // model.sws
  double file_rate = 0;         // 32-bit floats' bytes / file_bytes
  std::shared_ptr<GaussianMixturePrior> prior;  // the learned mixture
  PaperAccount account;    // per tensor, as the paper counts bits
  nlohmann::json metrics;  // what metrics.json holds
};

// Runs the three stages on `model` in place (it ends quantised, as model.sws holds it) and writes
// the files above; accuracy on `test` is measured after every epoch and stage. Validates every
// setting before any work; throws sws::Error naming the stage, epoch and step of a divergence.
PipelineResult compress_model(Module& model, const PipelineSettings& settings, const Dataset& train,
                              const Dataset& test, const PipelineRun& run);

}  // namespace sws
