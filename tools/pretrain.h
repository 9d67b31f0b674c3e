// Stage 1 of the pipeline: ordinary training with cross-entropy and Adam.
#pragma once
#include <string>

#include <memory>

#include <nlohmann/json.hpp>

#include "nn/dataset.h"
#include "nn/sequential.h"

namespace sws {

// Every setting of a pretraining run (saved into metrics.json).
struct PretrainConfig {
  std::string model = "lenet5";
  int64_t epochs = 0;      // 0: the model's preset
  int64_t batch = 0;       // 0: the model's preset
  double lr = 0;           // 0: the model's preset
  std::string schedule;    // "": the preset; "constant" or "cosine" (to 0 over the run)
  uint64_t seed = 1;
  int threads = 0;  // 0: OMP_NUM_THREADS, else the CPUs available (core/threads.h)
  std::string device = "cpu";  // "cpu", "cuda" or "cuda:N": where the model and every step run
  std::string data_dir = "data/mnist";
  std::string out_dir;
  int64_t train_limit = 0;  // > 0: use only the first N training images (quick runs, tests)
  int64_t test_limit = 0;   // > 0: evaluate on only the first N test images
  std::string checkpoint;   // the per-epoch resume file (tools/resume.h); "" = none
  bool resume = false;      // continue from `checkpoint` if it exists
};

// Per-model defaults, chosen to reach the paper's pretrained accuracy on full MNIST.
void apply_pretrain_preset(PretrainConfig& config);

// Throws sws::Error naming the first invalid setting (after presets are applied).
void validate(const PretrainConfig& config);

// What a pretraining run produced.
struct PretrainResult {
  std::shared_ptr<Sequential> model;
  double test_accuracy = 0, seconds = 0;
  nlohmann::json metrics;  // accuracy, per-epoch losses and times, settings
};

// Trains a fresh model (presets applied to `config`), evaluating after each epoch; writes
// config.checkpoint after every epoch and, with config.resume, continues from it.
PretrainResult pretrain(PretrainConfig config, const Dataset& train, const Dataset& test);

// `sws pretrain`: loads MNIST, trains, writes OUT/model.safetensors and OUT/metrics.json.
double run_pretrain(PretrainConfig config);

}  // namespace sws
