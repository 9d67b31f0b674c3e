// The stage commands beyond pretraining and `sws run`, which chains all three stages.
#pragma once
#include <string>

#include "tools/postprocess.h"
#include "tools/pretrain.h"
#include "tools/retrain.h"

namespace sws {

struct RunConfig {
  std::string model = "lenet5";
  std::string out_dir, data_dir = "data/mnist";
  std::string from_pretrained;  // a checkpoint: skip stage 1
  int64_t pretrain_epochs = 0;  // 0: preset
  int64_t train_limit = 0, test_limit = 0;
  uint64_t seed = 1;
  int threads = 0;  // 0: OMP_NUM_THREADS, else the CPUs available (core/threads.h)
  std::string device = "cpu";  // "cpu", "cuda" or "cuda:N": all three stages run there
  bool resume = false;  // continue the stages from OUT/checkpoints/ (after a crash or a kill)
  bool figures = true;  // draw OUT/figures/ (tools/figures.h)
  int64_t frame_every = 1;
  RetrainConfig retrain;
  PostprocessConfig postprocess;
};

// `sws run`: pretrain (or load --from-pretrained), retrain, post-process; writes into OUT
// pretrained / retrained / quantized .safetensors, prior.safetensors, metrics.json, report.md
// and, unless config.figures is false, the figures (tools/figures.h).
void run_pipeline(RunConfig config);

// `sws retrain`: retrains a checkpoint; writes OUT/retrained.safetensors, OUT/prior.safetensors
// and OUT/metrics.json.
void run_retrain_command(RetrainConfig config, const std::string& weights, const std::string& data_dir,
                         const std::string& out_dir, int64_t train_limit, int64_t test_limit);

// `sws quantize`: post-processes a retrained checkpoint with its prior; writes
// OUT/quantized.safetensors and OUT/metrics.json.
void run_quantize_command(const std::string& model, const std::string& weights, const std::string& prior_path,
                          const std::string& data_dir, const std::string& out_dir, int64_t test_limit,
                          PostprocessConfig config, const std::string& device = "cpu");

}  // namespace sws
