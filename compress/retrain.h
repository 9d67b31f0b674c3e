// Stage 2: retraining under the Gaussian-mixture prior (PAPER.md, "The loss"):
//   L = mean cross-entropy + (tau / N) C,  N = the number of training images,
// with multi-rate Adam over four groups: weights, means, log-precisions, mixing logits.
#pragma once
#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include "compress/gaussian_mixture_prior.h"
#include "compress/stage_run.h"

namespace sws {

// Every setting of retraining. The defaults are the paper's (LeNet-300-100; compress/presets.h
// has the three nets' presets); `sws run` takes each from a flag.
struct RetrainSettings {
  int64_t epochs = 30;             // --retrain-epochs (sws retrain: --epochs)
  int64_t batch = 256;             // --batch
  double tau = 0.005;              // weight of the complexity term: --tau
  int64_t tau_warmup_epochs = 0;   // tau rises linearly over these first epochs: --tau-warmup
  // Adam's rate per group: --lr-weights, --lr-means, --lr-log-precisions, --lr-mixing.
  double lr_weights = 5e-4, lr_means = 1e-4, lr_log_precisions = 3e-3, lr_mixing = 3e-3;
  PriorOptions prior;              // J, pi_0, initialisation, the Gamma and Beta hyper-priors
  uint64_t seed = 1;               // seeds the data order
};

// Throws sws::Error naming the first invalid setting (the prior's included).
void validate(const RetrainSettings& settings);

// The settings as stored in metrics and compared on resume.
nlohmann::json to_json(const RetrainSettings& settings);

// What a retraining run produced.
struct RetrainResult {
  std::shared_ptr<GaussianMixturePrior> prior;  // the learned mixture
  double accuracy = 0;     // the first evaluation's accuracy after the last epoch (0 without one)
  double seconds = 0;      // training time, time before a resume included
  nlohmann::json metrics;  // {"stage": "retrained", accuracies, "epochs", "prior_trajectory", "settings"}
};

// Retrains `model` in place from its current (pretrained) weights; the prior covers every
// parameter (prior_covered_tensors) and is initialised from them.
RetrainResult retrain(Module& model, const RetrainSettings& settings, const Dataset& train, const StageRun& run);

// Every weight and bias of a model: the tensors the prior covers.
std::vector<Tensor> prior_covered_tensors(const Module& model);

// The mixture as stored per epoch: {"means", "precisions", "mixing_proportions"}.
nlohmann::json prior_snapshot(const GaussianMixturePrior& prior);

}  // namespace sws
