#include "compress/presets.h"

#include "core/error.h"

namespace sws {

PipelineSettings preset_settings(const std::string& model) {
  PipelineSettings s;
  const bool lenet5 = model == "lenet5", tutorial = model == "tutorial";
  // Pretraining: Adam at 1e-3 with a cosine decay, batch 64 (smaller batches generalise better
  // here and our step is cheap at that size); LeNet-5 20 epochs (12 reach 99.30%, 20 99.31% and
  // lose less under tau 0.015: README), the tutorial's net 12.
  if (tutorial) s.pretrain.epochs = 12;
  // Retraining: 30 epochs as the tutorial (LeNet-300-100: its own, below). LeNet-5: tau = 0.015
  // rather than the paper's 0.005, which stops at 107x (README, tau sweep). The tutorial's net:
  // its own recipe (J = 16, pi_0 = 0.99, means over +-0.6).
  // LeNet-300-100: the point bench/choose_point.py took from the issue-16 search's front on the
  // validation split (bench/sweeps/lenet300, trial 83: the smallest file within 1.8% validation
  // error and 4.3% non-zero; its three reruns' median is 1.78%): tau rising over the first 10
  // of 40 planned epochs, pi_0 learned from 0.99926 under a Beta prior 47 x the weights strong,
  // the adaptive rule, the search's learning rates and Gamma hyper-priors, dead units removed.
  // The trial's values exactly: rounded to three digits the same run ended at 2.00% validation
  // error instead of 1.80% (near the front's edge any perturbation moves a run by tenths).
  // (Before the search: the paper's 100 epochs at tau 0.005, 12,351 bytes at 2.05% test error.)
  if (model == "lenet300") {
    s.retrain.epochs = 40;
    s.retrain.tau = 0.03539329826149567;
    s.retrain.tau_warmup_epochs = 10;
    s.retrain.tau_growth = 1.1340740435473555;
    s.retrain.lr_weights = 0.0014060143528970587, s.retrain.lr_means = 8.522835394950617e-05;
    s.retrain.lr_log_precisions = 0.0012684688821661342, s.retrain.lr_mixing = 0.0038915137095189376;
    PriorOptions& p = s.retrain.prior;
    p.components = 17;
    p.pi_zero = 0.9992586901622185;
    p.learn_pi_zero = true;
    p.pi_zero_concentration_per_weight = 47.27544317606819;
    p.alpha_zero = 4108.358971759304, p.beta_zero = 2.5310644818483894;
    p.alpha = 265.60953085065603, p.beta = 0.24820755689712168;
    s.postprocess.remove_dead_units = true;
  }
  if (lenet5) s.retrain.tau = 0.015;
  if (tutorial) {
    s.retrain.tau = 0.003;
    s.retrain.prior.components = 16;
    s.retrain.prior.pi_zero = 0.99;
    s.retrain.prior.init = "fixed";
  }
  // Any other model: pi_0 = 0.99 rather than the paper's 0.999 and tau = 0.02 rather than 0.005
  // (README, the gap study, measured on the validation split). pi_0 = 0.99 is the one setting
  // that narrowed the quantisation gap of the 784-128-64-10 MLP on both MNIST and Fashion-MNIST:
  // with 0.999 only 0.1% of the weights are non-zero in the prior's eyes, and a net that needs a
  // few percent keeps them between zero and the nearest component. tau = 0.02 then gathers the
  // weights in fewer epochs and leaves fewer non-zero: 784-500-300-10 on MNIST 77x -> 162x and on
  // Fashion-MNIST a failure (exit 3) -> 51x, 784-128-64-10 on MNIST 49x -> 63x, each within a
  // point of its retrained accuracy.
  bool known = false;
  for (const std::string& name : preset_names()) known = known || name == model;
  if (!known) s.retrain.prior.pi_zero = 0.99, s.retrain.tau = 0.02;
  // One epoch of codebook fine-tuning for LeNet-5 (0.96% instead of 1.01% error at the same size).
  if (lenet5) s.postprocess.finetune.epochs = 1;
  return s;
}

const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> names{"lenet300", "lenet5", "tutorial"};
  return names;
}

void set_seed(PipelineSettings& s, uint64_t seed) {
  s.pretrain.seed = s.retrain.seed = s.postprocess.finetune.seed = seed;
}

void validate(const PipelineSettings& s) {
  SWS_CHECK(s.validation_fraction > 0 && s.validation_fraction < 1,
            "--validation-fraction must lie strictly between 0 and 1, got " + std::to_string(s.validation_fraction));
  SWS_CHECK(s.max_accuracy_drop >= 0 && s.max_accuracy_drop <= 1, "--max-drop must lie between 0 and 1 (a fraction: 0.02 is 2 points)");
  validate(s.pretrain);
  validate(s.retrain);
  validate(s.postprocess);
}

}  // namespace sws
