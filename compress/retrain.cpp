#include "compress/retrain.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "autograd/ops.h"
#include "compress/adaptive_rule.h"
#include "compress/quantization_gap.h"
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
  SWS_CHECK(s.rule == "fixed" || s.rule == "adaptive", "--retrain-rule must be fixed or adaptive, got '" + s.rule + "'");
  SWS_CHECK(s.gap_tolerance >= 0 && std::isfinite(s.gap_tolerance), "--gap-tolerance must be >= 0");
  SWS_CHECK(s.tau_growth >= 1 && std::isfinite(s.tau_growth), "--tau-growth must be at least 1");
  SWS_CHECK(s.sigma_anneal > 0 && s.sigma_anneal <= 1, "--sigma-anneal must lie in (0, 1]");
  SWS_CHECK(s.pi0_relax >= 1 && std::isfinite(s.pi0_relax), "--pi0-relax must be at least 1");
  SWS_CHECK(s.pi0_floor > 0 && s.pi0_floor < 1, "--pi0-floor must lie strictly between 0 and 1");
  SWS_CHECK(s.max_accuracy_loss >= 0 && s.max_accuracy_loss <= 1, "--max-retrain-loss must lie in [0, 1]");
  SWS_CHECK(s.snapped_patience >= 1, "--snapped-patience must be at least 1");
  SWS_CHECK(s.max_epochs == 0 || s.max_epochs >= s.epochs,
            "--max-retrain-epochs must be 0 (twice the retraining epochs) or at least the retraining epochs, got " +
                std::to_string(s.max_epochs));
  validate(s.prior);
}

int64_t epoch_cap(const RetrainSettings& s) {
  if (s.rule == "fixed") return s.epochs;
  return s.max_epochs > 0 ? s.max_epochs : 2 * s.epochs;
}

nlohmann::json to_json(const RetrainSettings& s) {
  const PriorOptions& p = s.prior;
  return {{"epochs", s.epochs}, {"batch", s.batch}, {"tau", s.tau}, {"tau_warmup_epochs", s.tau_warmup_epochs},
          {"lr_weights", s.lr_weights}, {"lr_means", s.lr_means}, {"lr_log_precisions", s.lr_log_precisions},
          {"lr_mixing", s.lr_mixing}, {"components", p.components}, {"pi0", p.pi_zero}, {"learn_pi0", p.learn_pi_zero},
          {"pi0_concentration", p.pi_zero_concentration},
          {"pi0_concentration_per_weight", p.pi_zero_concentration_per_weight}, {"init", p.init}, {"init_range", p.init_range},
          {"init_sigma", p.init_sigma}, {"alpha_zero", p.alpha_zero}, {"beta_zero", p.beta_zero},
          {"alpha", p.alpha}, {"beta", p.beta}, {"seed", s.seed}, {"rule", s.rule},
          {"gap_tolerance", s.gap_tolerance}, {"tau_growth", s.tau_growth}, {"sigma_anneal", s.sigma_anneal},
          {"pi0_relax", s.pi0_relax}, {"pi0_floor", s.pi0_floor}, {"max_accuracy_loss", s.max_accuracy_loss},
          {"snapped_patience", s.snapped_patience},
          {"max_epochs", epoch_cap(s)}};
}

std::vector<Tensor> prior_covered_tensors(const Module& model) { return model.parameters(); }

std::vector<double> cap_sigmas(GaussianMixturePrior& prior, double sigma_cap) {
  std::vector<double> gamma = prior.gamma.to_double_vector();
  if (!(sigma_cap > 0)) return gamma;
  // sigma_j <= cap  <=>  gamma_j = log lambda_j >= -2 log cap.
  const double floor = -2.0 * std::log(sigma_cap);
  bool changed = false;
  for (double& g : gamma)
    if (g < floor) g = floor, changed = true;
  if (changed) prior.gamma.copy_(Tensor::from_vector(gamma, {static_cast<int64_t>(gamma.size())}, prior.gamma.device()).to(prior.gamma.dtype()));
  return gamma;
}

nlohmann::json prior_snapshot(const GaussianMixturePrior& prior) {
  return {{"means", prior.means()}, {"precisions", prior.precisions()}, {"mixing_proportions", prior.mixing_proportions()}};
}

namespace {

// Stops the run at a variance collapse (a component narrower than 1e-5, which the Gamma
// hyper-priors exist to prevent), naming it. Non-finite values are caught by the loop.
void check_variances(const std::vector<double>& gamma, int64_t epoch, int64_t step) {
  for (size_t j = 0; j < gamma.size(); ++j)
    SWS_CHECK(gamma[j] < 23.0, "retraining stopped at epoch " + std::to_string(epoch) + ", step " +
                                   std::to_string(step) + ": the variance of mixture component " + std::to_string(j) +
                                   " collapsed (sigma = " + std::to_string(std::exp(-0.5 * gamma[j])) +
                                   "); try smaller --lr-log-precisions");
}

}  // namespace

RetrainResult retrain(Module& model, const RetrainSettings& s, const SnapSettings& snap, const Dataset& train,
                      const StageRun& run) {
  validate(s);
  validate(snap);
  SWS_CHECK(s.rule == "fixed" || !run.evaluations.empty(),
            "adaptive retraining decides on a validation set: give the stage one (StageRun::evaluations)");
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
  o.stage = "retraining", o.epochs = epoch_cap(s), o.batch = s.batch, o.shuffle_seed = s.seed ^ 0x7e7a1be5ULL;
  o.hint = "try a smaller --tau or --lr-weights";
  o.checkpoint = run.checkpoint, o.resume = run.resume, o.settings = settings, o.evaluations = run.evaluations;
  o.comm = run.comm;
  if (run.observer.on_note) {
    char line[300];
    std::snprintf(line, sizeof line, "retraining %s: J = %lld, pi0 = %g%s, tau = %g, %lld epochs of %lld steps%s",
                  run.architecture.c_str(), static_cast<long long>(s.prior.components), s.prior.pi_zero,
                  s.prior.learn_pi_zero ? " (learned)" : "", s.tau, static_cast<long long>(s.epochs),
                  static_cast<long long>((train.size() + s.batch - 1) / s.batch),
                  s.rule == "adaptive" ? (", then up to " + std::to_string(epoch_cap(s)) + " while the gap is open").c_str() : "");
    run.observer.on_note(line);
  }
  TrainingLoop loop(o, adam, state, model, run.observer);
  // The prior was initialised from the pretrained weights above, as in an interrupted run; on a
  // resume the loop then gives every learned tensor, the optimiser and the data order their
  // saved values, and the history (the trajectory included) its saved entries.
  // The adaptive rule's state is "tau_scale", "sigma_cap" (0: none) and "pi0" in the history, so
  // the checkpoint carries it.
  nlohmann::json initial = initial_rule_state(s);
  initial["prior_trajectory"] = nlohmann::json::array({prior_snapshot(*prior)});
  loop.set_initial_history(initial);
  const nlohmann::json& rule_state = loop.history();
  // A fixed pi_0 is the constant eta = logit(pi_0): set it from the rule's state (after a resume too).
  auto apply_rule_pi0 = [&] {
    const double pi0 = rule_state.at("pi0").get<double>();
    if (!s.prior.learn_pi_zero && pi0 != prior->options().pi_zero) prior->set_pi_zero(pi0);
  };
  loop.before_step = [&](const TrainingStep&) { apply_rule_pi0(); };
  // tau warm-up: linear from tau / warmup to tau over the first epochs; then the rule's scale.
  auto tau_of = [&](int64_t epoch) {
    const double warm = s.tau_warmup_epochs > 0 ? std::min(1.0, double(epoch) / s.tau_warmup_epochs) : 1.0;
    return s.tau * warm * rule_state.at("tau_scale").get<double>();
  };
  loop.after_step = [&](const TrainingStep& step) {
    // One read of gamma per step: capped (when the rule has set a cap), then checked.
    check_variances(cap_sigmas(*prior, rule_state.at("sigma_cap").get<double>()), step.epoch, step.step);
  };
  const std::string decided_on = run.evaluations.empty() ? "" : run.evaluations.front().first;
  loop.on_epoch = [&](EpochEnd& e) {
    e.record["tau"] = tau_of(e.epoch);
    e.record["pi0"] = rule_state.at("pi0").get<double>();
    e.history["prior_trajectory"].push_back(prior_snapshot(*prior));
    if (decided_on.empty()) return;
    // The quantisation gap on the decision set, and the rule.
    const auto start = std::chrono::steady_clock::now();
    const double snapped = snapped_accuracy(model, *prior, snap, *run.evaluations.front().second, run.comm);
    e.record["snapped_" + decided_on] = snapped;
    e.record["snap_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    e.shown.push_back("snapped_" + decided_on);
    if (s.rule != "adaptive" || e.epoch < s.epochs) return;
    const std::vector<double> lambda = prior->precisions();
    const double widest = 1.0 / std::sqrt(*std::min_element(lambda.begin(), lambda.end()));
    const std::string stop = adaptive_rule_step(s, e.epoch, e.record.at(decided_on).get<double>(), snapped, widest, e.history);
    if (!stop.empty()) {
      e.stop = true;
      e.history["stop_reason"] = stop;
      return;
    }
    cap_sigmas(*prior, e.history.at("sigma_cap").get<double>());  // pi_0: before the next step
  };
  const double n = static_cast<double>(train.size());
  const nlohmann::json& history = loop.run(train, [&](const TrainingStep& step) {
    const Tensor ce = cross_entropy(model(step.x), step.y);
    // On several ranks: this rank's share of the batch, weighted, and its part of the prior.
    const Tensor complexity = prior->complexity(weights, step.rank, step.ranks);
    const Tensor data_term = step.ranks == 1 ? ce : mul_scalar(ce, step.share);
    const Tensor loss = add(data_term, mul_scalar(complexity, tau_of(step.epoch) / n));
    return StepLoss{loss, {{"cross_entropy", ce}, {"complexity", complexity, false}}};
  });
  apply_rule_pi0();  // a resume after the last epoch runs no step
  RetrainResult r;
  r.prior = prior;
  const nlohmann::json last = loop.last_record();
  r.accuracy = run.evaluations.empty() ? 0.0 : last.value(run.evaluations.front().first, 0.0);
  r.seconds = loop.seconds();
  r.metrics = {{"stage", "retrained"}, {"seconds", r.seconds}, {"epochs", history.at("epochs")},
               {"epochs_run", history.at("epochs").size()}, {"tau_scale", history.at("tau_scale")},
               {"sigma_cap", history.at("sigma_cap")}, {"pi0", history.at("pi0")},
               {"stop_reason", history.value("stop_reason", s.rule == "fixed" ? "fixed schedule" : "")},
               {"prior_trajectory", history.at("prior_trajectory")}, {"settings", settings}};
  r.metrics.update(final_accuracies(run, last));
  return r;
}

}  // namespace sws
