#include "compress/retrain.h"

#include <cmath>

#include "autograd/ops.h"
#include "core/error.h"
#include "optim/adam.h"

namespace sws {

void validate(const RetrainSettings& s) {
  SWS_CHECK(s.epochs >= 1, "the retraining epochs must be at least 1, got " + std::to_string(s.epochs) +
                               " (--retrain-epochs; --epochs of sws retrain)");
  SWS_CHECK(s.batch >= 1, "the retraining batch must be at least 1, got " + std::to_string(s.batch) + " (--batch)");
  SWS_CHECK(s.tau >= 0 && std::isfinite(s.tau), "--tau must be >= 0, got " + std::to_string(s.tau));
  SWS_CHECK(s.tau_warmup_epochs >= 0 && s.tau_warmup_epochs <= s.epochs,
            "--tau-warmup must lie between 0 and the retraining epochs, got " + std::to_string(s.tau_warmup_epochs));
  for (double lr : {s.lr_weights, s.lr_means, s.lr_log_precisions, s.lr_mixing})
    SWS_CHECK(lr > 0 && std::isfinite(lr),
              "retraining learning rates must be positive (--lr-weights, --lr-means, --lr-log-precisions, --lr-mixing)");
  validate(s.prior);
}

nlohmann::json to_json(const RetrainSettings& s) {
  const PriorOptions& p = s.prior;
  return {{"epochs", s.epochs}, {"batch", s.batch}, {"tau", s.tau}, {"tau_warmup_epochs", s.tau_warmup_epochs},
          {"lr_weights", s.lr_weights}, {"lr_means", s.lr_means}, {"lr_log_precisions", s.lr_log_precisions},
          {"lr_mixing", s.lr_mixing}, {"components", p.components}, {"pi0", p.pi_zero}, {"learn_pi0", p.learn_pi_zero},
          {"pi0_concentration", p.pi_zero_concentration}, {"init", p.init}, {"init_range", p.init_range},
          {"init_sigma", p.init_sigma}, {"alpha_zero", p.alpha_zero}, {"beta_zero", p.beta_zero},
          {"alpha", p.alpha}, {"beta", p.beta}, {"seed", s.seed}};
}

std::vector<Tensor> prior_covered_tensors(const Module& model) { return model.parameters(); }

nlohmann::json prior_snapshot(const GaussianMixturePrior& prior) {
  return {{"means", prior.means()}, {"precisions", prior.precisions()}, {"mixing_proportions", prior.mixing_proportions()}};
}

namespace {

// Stops the run at a variance collapse (a component narrower than 1e-5, which the Gamma
// hyper-priors exist to prevent), naming it. Non-finite values are caught by the loop.
void check_variances(const GaussianMixturePrior& prior, int64_t epoch, int64_t step) {
  const std::vector<double> gamma = prior.gamma.to_double_vector();
  for (size_t j = 0; j < gamma.size(); ++j)
    SWS_CHECK(gamma[j] < 23.0, "retraining stopped at epoch " + std::to_string(epoch) + ", step " +
                                   std::to_string(step) + ": the variance of mixture component " + std::to_string(j) +
                                   " collapsed (sigma = " + std::to_string(std::exp(-0.5 * gamma[j])) +
                                   "); try smaller --lr-log-precisions");
}

}  // namespace

RetrainResult retrain(Module& model, const RetrainSettings& s, const Dataset& train, const StageRun& run) {
  validate(s);
  const std::vector<Tensor> weights = prior_covered_tensors(model);
  auto prior = std::make_shared<GaussianMixturePrior>(s.prior, weights);
  // The four groups of the paper; a learned pi_0's logit goes with the mixing logits.
  NamedTensors mixing{{"prior.mixing_logits", prior->rho}};
  if (s.prior.learn_pi_zero) mixing.push_back({"prior.zero_logit", prior->eta});
  Adam adam({{"weights", model.named_parameters(), {s.lr_weights, {}, {}, {}, {}}},
             {"means", {{"prior.means", prior->mu}}, {s.lr_means, {}, {}, {}, {}}},
             {"log_precisions", {{"prior.log_precisions", prior->gamma}}, {s.lr_log_precisions, {}, {}, {}, {}}},
             {"mixing_logits", mixing, {s.lr_mixing, {}, {}, {}, {}}}});
  nlohmann::json settings = to_json(s);
  settings.update(run_settings(run, model, train));
  NamedTensors state = model.named_parameters();
  for (const auto& named : prior->named_parameters()) state.push_back(named);
  TrainingLoopOptions o;
  o.stage = "retraining", o.epochs = s.epochs, o.batch = s.batch, o.shuffle_seed = s.seed ^ 0x7e7a1be5ULL;
  o.hint = "try a smaller --tau or --lr-weights";
  o.checkpoint = run.checkpoint, o.resume = run.resume, o.settings = settings, o.evaluations = run.evaluations;
  if (run.observer.on_note) {
    char line[200];
    std::snprintf(line, sizeof line, "retraining %s: J = %lld, pi0 = %g%s, tau = %g, %lld epochs of %lld steps",
                  run.architecture.c_str(), static_cast<long long>(s.prior.components), s.prior.pi_zero,
                  s.prior.learn_pi_zero ? " (learned)" : "", s.tau, static_cast<long long>(s.epochs),
                  static_cast<long long>((train.size() + s.batch - 1) / s.batch));
    run.observer.on_note(line);
  }
  TrainingLoop loop(o, adam, state, model, run.observer);
  // The prior was initialised from the pretrained weights above, as in an interrupted run; on a
  // resume the loop then gives every learned tensor, the optimiser and the data order their
  // saved values, and the history (the trajectory included) its saved entries.
  loop.set_initial_history({{"prior_trajectory", nlohmann::json::array({prior_snapshot(*prior)})}});
  // tau warm-up: linear from tau / warmup to tau over the first epochs.
  auto tau_of = [&](int64_t epoch) {
    return s.tau_warmup_epochs > 0 ? s.tau * std::min(1.0, double(epoch) / s.tau_warmup_epochs) : s.tau;
  };
  loop.after_step = [&](const TrainingStep& step) { check_variances(*prior, step.epoch, step.step); };
  loop.on_epoch = [&](EpochEnd& e) {
    e.record["tau"] = tau_of(e.epoch);
    e.history["prior_trajectory"].push_back(prior_snapshot(*prior));
  };
  const double n = static_cast<double>(train.size());
  const nlohmann::json& history = loop.run(train, [&](const TrainingStep& step) {
    const Tensor ce = cross_entropy(model(step.x), step.y);
    const Tensor complexity = prior->complexity(weights);
    const Tensor loss = add(ce, mul_scalar(complexity, tau_of(step.epoch) / n));
    return StepLoss{loss, {{"cross_entropy", ce}, {"complexity", complexity, false}}};
  });
  RetrainResult r;
  r.prior = prior;
  const nlohmann::json last = loop.last_record();
  r.accuracy = run.evaluations.empty() ? 0.0 : last.value(run.evaluations.front().first, 0.0);
  r.seconds = loop.seconds();
  r.metrics = {{"stage", "retrained"}, {"seconds", r.seconds}, {"epochs", history.at("epochs")},
               {"prior_trajectory", history.at("prior_trajectory")}, {"settings", settings}};
  r.metrics.update(final_accuracies(run, last));
  return r;
}

}  // namespace sws
