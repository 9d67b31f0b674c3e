// Stage 1 of the pipeline: ordinary training with cross-entropy and Adam.
#pragma once
#include <string>

#include "nn/dataset.h"

namespace sws {

// Every setting of a pretraining run (saved into metrics.json).
struct PretrainConfig {
  std::string model = "lenet5";
  int64_t epochs = 0;      // 0: the model's preset
  int64_t batch = 0;       // 0: the model's preset
  double lr = 0;           // 0: the model's preset
  std::string schedule;    // "": the preset; "constant" or "cosine" (to 0 over the run)
  uint64_t seed = 1;
  int threads = 2;
  std::string data_dir = "data/mnist";
  std::string out_dir;
  int64_t train_limit = 0;  // > 0: use only the first N training images (quick runs, tests)
  int64_t test_limit = 0;   // > 0: evaluate on only the first N test images
};

// Per-model defaults, chosen to reach the paper's pretrained accuracy on full MNIST.
void apply_pretrain_preset(PretrainConfig& config);

// Trains, evaluates after each epoch, writes OUT/model.safetensors and OUT/metrics.json.
// Returns the final test accuracy.
double run_pretrain(PretrainConfig config);

}  // namespace sws
