// Stage 2: retraining under the Gaussian-mixture prior (PAPER.md, "The loss"):
//   L = mean cross-entropy + (tau / N) C,  N = the number of training images,
// with multi-rate Adam over four groups: weights, means, log-precisions, mixing logits.
#pragma once
#include <cstdint>
#include <memory>

#include <nlohmann/json.hpp>

#include "compress/gaussian_mixture_prior.h"
#include "compress/quantize.h"
#include "compress/stage_run.h"

namespace sws {

// Every setting of retraining. The defaults are the paper's settings with the tutorial's 30
// epochs (compress/presets.h has the three nets' presets); `sws run` takes each from a flag.
struct RetrainSettings {
  int64_t epochs = 30;             // --retrain-epochs (sws retrain: --epochs)
  int64_t batch = 256;             // --batch
  double tau = 0.005;              // weight of the complexity term: --tau
  int64_t tau_warmup_epochs = 0;   // tau rises linearly over these first epochs: --tau-warmup
  // Adam's rate per group: --lr-weights, --lr-means, --lr-log-precisions, --lr-mixing.
  double lr_weights = 5e-4, lr_means = 1e-4, lr_log_precisions = 3e-3, lr_mixing = 3e-3;
  PriorOptions prior;              // J, pi_0, initialisation, the Gamma and Beta hyper-priors
  uint64_t seed = 1;               // seeds the data order
  // When retraining ends: "fixed" runs exactly `epochs` epochs (the paper's schedule);
  // "adaptive" runs at least `epochs` and then goes on while the quantisation gap (unquantised
  // minus snapped accuracy on the first evaluation set, the validation split) exceeds
  // gap_tolerance, up to max_epochs (0: 2 x epochs); after every such epoch tau is multiplied by
  // tau_growth and every component's sigma is capped at sigma_anneal x the widest one's (the
  // variances annealed, so that weights resting in a wide bell must choose a mean). 1 turns
  // either off. It stops early when the unquantised validation accuracy has fallen more than
  // max_accuracy_loss below its value after `epochs` and the snapped accuracy has not beaten its
  // best for snapped_patience extra epochs (closing the gap is then costing the model itself
  // without helping what will be shipped: post-processing and its failure check judge the
  // result; the snapped accuracy may rest an epoch or two before it climbs again). After every extra epoch
  // the zero component's share 1 - pi_0 is also multiplied by pi0_relax, pi_0 never going below
  // pi0_floor (a fixed pi_0 that starts at or below the floor stays): when the gap stays open,
  // the prior demands more zeros than the data allow (README, the gap study), so it yields.
  // --retrain-rule, --gap-tolerance, --tau-growth, --sigma-anneal, --pi0-relax, --pi0-floor,
  // --max-retrain-loss, --snapped-patience, --max-retrain-epochs.
  std::string rule = "adaptive";
  double gap_tolerance = 0.005;
  double tau_growth = 1.25;
  double sigma_anneal = 0.9;
  double pi0_relax = 1.5;
  double pi0_floor = 0.99;
  double max_accuracy_loss = 0.01;
  int64_t snapped_patience = 3;
  int64_t max_epochs = 0;
};

// The epoch cap a (validated) setting implies: epochs for "fixed", max_epochs (or 2 x epochs) for "adaptive".
int64_t epoch_cap(const RetrainSettings& settings);

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
// parameter (prior_covered_tensors) and is initialised from them. After every epoch, besides
// run.evaluations' accuracies, the accuracy of the snapped model (`snap`: as post-processing
// will snap it; compress/quantization_gap.h) on the first evaluation set is recorded as
// "snapped_<name>" ("snapped_validation_accuracy"). The adaptive rule needs that set.
RetrainResult retrain(Module& model, const RetrainSettings& settings, const SnapSettings& snap, const Dataset& train,
                      const StageRun& run);

// Every weight and bias of a model: the tensors the prior covers.
std::vector<Tensor> prior_covered_tensors(const Module& model);

// Caps every component's standard deviation at sigma_cap (raises gamma_j to -2 log sigma_cap
// where it is below), in place; sigma_cap <= 0 changes nothing. Returns gamma as it then is, on
// the host. The adaptive rule's annealing.
std::vector<double> cap_sigmas(GaussianMixturePrior& prior, double sigma_cap);

// The mixture as stored per epoch: {"means", "precisions", "mixing_proportions"}.
nlohmann::json prior_snapshot(const GaussianMixturePrior& prior);

}  // namespace sws
