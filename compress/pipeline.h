// Soft weight-sharing of any module in one call: pretrain (or start from trained weights),
// retrain under the mixture prior, post-process, and write the compressed model, with every
// stage resumable after a crash or a kill. Files, all written atomically, under run.out_dir:
//   checkpoints/pretrain.safetensors, checkpoints/retrain.safetensors  per-epoch resume states
//   pretrained.safetensors, retrained.safetensors, quantized.safetensors  the model after each stage
//   prior.safetensors  the learned mixture (compress/prior_file.h)
//   model.sws          the compressed model (docs/FORMAT.md; compress/sws_module.h reads it back),
//                      FAILED-model.sws instead when post-processing lost too much accuracy
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
#include "core/error.h"
#include "optim/training_loop.h"

namespace sws {

// How the pipeline runs, apart from the method's settings: files, resume, threads, reporting.
struct PipelineRun {
  std::string out_dir;                 // required: the run's folder (created if missing)
  std::string architecture = "model";  // the model's name in the checkpoints and the .sws file
  std::vector<std::pair<std::string, std::string>> sws_config;  // key/values stored in the .sws file
  bool pretrain = true;   // false: the model arrives trained, stage 1 only measures it
  bool resume = false;    // continue from out_dir/checkpoints/ when they exist (a fresh run otherwise)
  // CPU threads for the whole process (set_num_threads, left so afterwards); 0: the checkpoint's
  // count on a resume, else core/threads.h's choice (OMP_NUM_THREADS, else the CPUs available).
  int threads = 0;
  TrainingObserver observer;  // every stage reports here (optim/console_observer.h prints)
  // Called as each stage starts ("pretraining", "retraining", "post-processing") with the model
  // as it is then (figures take the pretrained weights' range here).
  std::function<void(const std::string& stage, Module& model)> on_stage;
  // Synchronous data parallelism over comm's ranks (core/communicator.h; the training loop says
  // how); null: one process. Every rank calls compress_model with the same arguments; rank 0
  // alone writes the files and reports to the observer and on_stage; post-processing runs on
  // every rank alike (it is cheap and deterministic), so that all end with the same model.
  Communicator* comm = nullptr;
};

// What the run produced; metrics is metrics.json's content.
struct PipelineResult {
  double pretrained_accuracy = 0, retrained_accuracy = 0, quantized_accuracy = 0;  // on `test` (NaN if empty), after each stage
  // On the validation split, after each stage: what the pipeline decides on.
  double pretrained_validation = 0, retrained_validation = 0, quantized_validation = 0;
  bool failed = false;          // post-processing lost more than settings.max_accuracy_drop
  double nonzero_fraction = 0;  // of all parameters, after post-processing
  double paper_rate = 0;        // the paper's accounting (compress/paper_accounting.h)
  int64_t file_bytes = 0;       // model.sws
  double file_rate = 0;         // 32-bit floats' bytes / file_bytes
  std::shared_ptr<GaussianMixturePrior> prior;  // the learned mixture
  PaperAccount account;    // per tensor, as the paper counts bits
  nlohmann::json metrics;  // what metrics.json holds
};

// Post-processing lost more validation accuracy than allowed: the files were written (the
// compressed one as FAILED-model.sws, metrics.json with "status": "failed") and result() has
// every figure, so that a search can score the run rather than lose it. The CLI exits with 3.
class QuantizationFailure : public Error {
 public:
  // what() is `message`; result() the run as it ended.
  QuantizationFailure(const std::string& message, PipelineResult result)
      : Error(message), result_(std::move(result)) {}
  const PipelineResult& result() const { return result_; }  // the run as it ended

 private:
  PipelineResult result_;
};

// Runs the three stages on `model` in place (it ends quantised, as model.sws holds it) and writes
// the files above. The last settings.validation_fraction of `train` is held out: accuracy on it
// is measured after every epoch and decides (the adaptive retraining, the failure check);
// accuracy on `test` is measured once after each stage and only reported. Validates every
// setting before any work; throws sws::Error naming the stage, epoch and step of a divergence,
// and QuantizationFailure when post-processing costs more than settings.max_accuracy_drop.
PipelineResult compress_model(Module& model, const PipelineSettings& settings, const Dataset& train,
                              const Dataset& test, const PipelineRun& run);

// The message of a QuantizationFailure: how far the validation accuracy fell and what to try.
std::string quantization_failure_message(double retrained, double quantized, double allowed);

}  // namespace sws
