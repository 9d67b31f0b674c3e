// Stage 2: retraining under the Gaussian-mixture prior (PAPER.md, "The loss"):
//   L = mean cross-entropy + (tau / N) C,  N = training-set size,
// with multi-rate Adam over four groups: weights, means, log-precisions, mixing logits.
#pragma once
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "compress/gaussian_mixture_prior.h"
#include "nn/dataset.h"
#include "nn/sequential.h"

namespace sws {

// Every setting of a retraining run; 0 (or "") means "the model's preset".
struct RetrainConfig {
  std::string model = "lenet5";
  int64_t epochs = 0, batch = 0;
  double tau = -1;                 // < 0: preset (paper 0.005, tutorial 0.003)
  int64_t tau_warmup_epochs = -1;  // tau grows linearly over these epochs; < 0: preset
  double lr_weights = 0, lr_means = 0, lr_log_precisions = 0, lr_mixing = 0;
  int64_t components = 0;          // J
  double pi0 = 0;                  // pi_0 (its initial value when learned)
  bool learn_pi0 = false;          // learn pi_0 under a Beta hyper-prior
  double pi0_concentration = 1000; // kappa of that Beta hyper-prior (PriorOptions)
  std::string init;                // "range" (paper) or "fixed" (tutorial)
  uint64_t seed = 1;
  int threads = 0;  // 0: OMP_NUM_THREADS, else the CPUs available (core/threads.h)
  std::string device = "cpu";  // where `sws retrain` puts the model; retrain() uses the model's device
  std::string checkpoint;  // the per-epoch resume file (tools/resume.h); "" = none
  bool resume = false;     // continue from `checkpoint` if it exists
  std::string frames_dir;  // a run folder: draw figures/frames/epoch_NNN.png there; "" = none
  int64_t frame_every = 1; // draw every k-th epoch's frame (and the last)
};

// Fills unset settings with the model's preset (tutorial preset for "tutorial", the paper's for
// the LeNets) and validates all of them; throws sws::Error naming the first bad one.
void apply_retrain_preset(RetrainConfig& config);

// The prior's options implied by a (preset-applied) configuration.
PriorOptions prior_options(const RetrainConfig& config);

struct RetrainResult {
  std::shared_ptr<GaussianMixturePrior> prior;
  double test_accuracy = 0, seconds = 0;
  nlohmann::json metrics;  // accuracy, per-epoch losses, prior trajectories, settings
};

// Retrains `model` in place from its current (pretrained) weights.
RetrainResult retrain(RetrainConfig config, Sequential& model, const Dataset& train, const Dataset& test);

// Every weight and bias of a model, the tensors the prior covers.
std::vector<Tensor> prior_covered_tensors(const Module& model);

// Writes / reads the prior's learned tensors and options as safetensors.
void save_prior(const GaussianMixturePrior& prior, const std::string& path);
std::shared_ptr<GaussianMixturePrior> load_prior(const std::string& path, const std::vector<Tensor>& weights);

}  // namespace sws
