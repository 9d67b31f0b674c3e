#include "tools/retrain.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "autograd/ops.h"
#include "core/backend.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/safetensors.h"
#include "core/threads.h"
#include "nn/models.h"
#include "optim/adam.h"
#include "tools/figures.h"
#include "tools/finite_check.h"
#include "tools/progress.h"
#include "tools/resume.h"

namespace sws {

void apply_retrain_preset(RetrainConfig& c) {
  make_model(c.model, 0);  // throws for an unknown model
  const bool tutorial = c.model == "tutorial";
  // 30 epochs as the tutorial; LeNet-300-100 needs the paper's 100 for its weights to settle
  // on the components (after 30, 28% still sit between them and quantisation costs 24 points).
  if (c.epochs == 0) c.epochs = c.model == "lenet300" ? 100 : 30;
  if (c.batch == 0) c.batch = 256;
  // LeNet-5: tau = 0.015 rather than the paper's 0.005, which stops at 107x (README, tau sweep).
  if (c.tau < 0) c.tau = tutorial ? 0.003 : c.model == "lenet5" ? 0.015 : 0.005;
  if (c.tau_warmup_epochs < 0) c.tau_warmup_epochs = 0;
  if (c.lr_weights == 0) c.lr_weights = 5e-4;
  if (c.lr_means == 0) c.lr_means = 1e-4;
  if (c.lr_log_precisions == 0) c.lr_log_precisions = 3e-3;
  if (c.lr_mixing == 0) c.lr_mixing = 3e-3;
  if (c.components == 0) c.components = tutorial ? 16 : 17;
  if (c.pi0 == 0) c.pi0 = tutorial ? 0.99 : 0.999;
  if (c.init.empty()) c.init = tutorial ? "fixed" : "range";
  SWS_CHECK(c.epochs >= 1, "--retrain-epochs must be at least 1, got " + std::to_string(c.epochs));
  SWS_CHECK(c.batch >= 1, "--batch must be at least 1, got " + std::to_string(c.batch));
  SWS_CHECK(c.tau >= 0 && std::isfinite(c.tau), "--tau must be >= 0, got " + std::to_string(c.tau));
  SWS_CHECK(c.tau_warmup_epochs <= c.epochs, "--tau-warmup cannot exceed the retraining epochs");
  for (double lr : {c.lr_weights, c.lr_means, c.lr_log_precisions, c.lr_mixing})
    SWS_CHECK(lr > 0 && std::isfinite(lr), "retraining learning rates must be positive");
  SWS_CHECK(c.threads >= 0, "--threads must be at least 1 (or 0 for the default)");
  SWS_CHECK(c.frame_every >= 1, "--frame-every must be at least 1");
  backend_for(parse_device(c.device));  // a malformed --device or a missing GPU fails here, before any work
  validate(prior_options(c));
}

PriorOptions prior_options(const RetrainConfig& c) {
  PriorOptions o;
  o.components = c.components;
  o.pi_zero = c.pi0;
  o.learn_pi_zero = c.learn_pi0;
  o.pi_zero_concentration = c.pi0_concentration;
  o.init = c.init;
  return o;
}

std::vector<Tensor> prior_covered_tensors(const Module& model) { return model.parameters(); }

namespace {

// Stops the run at the first non-finite prior parameter, or at a variance collapse (a
// component narrower than 1e-5, which the Gamma hyper-priors exist to prevent), naming it.
void check_prior(const GaussianMixturePrior& prior, int64_t epoch, int64_t step) {
  const std::string where = "retraining stopped at epoch " + std::to_string(epoch) + ", step " + std::to_string(step);
  for (const auto& [name, t] : prior.named_parameters())
    for (double v : t.to_double_vector())
      SWS_CHECK(std::isfinite(v), where + ": " + name + " holds " + std::to_string(v) +
                                      " (try a smaller --tau or prior learning rates)");
  const std::vector<double> gamma = prior.gamma.to_double_vector();
  for (size_t j = 0; j < gamma.size(); ++j)
    SWS_CHECK(gamma[j] < 23.0, where + ": the variance of mixture component " + std::to_string(j) +
                                   " collapsed (sigma = " + std::to_string(std::exp(-0.5 * gamma[j])) +
                                   "); try smaller --lr-log-precisions");
}

nlohmann::json prior_snapshot(const GaussianMixturePrior& prior) {
  return {{"means", prior.means()}, {"precisions", prior.precisions()}, {"mixing_proportions", prior.mixing_proportions()}};
}

}  // namespace

RetrainResult retrain(RetrainConfig c, Sequential& model, const Dataset& train, const Dataset& test) {
  apply_retrain_preset(c);
  c.threads = stage_thread_count(c.threads, c.resume, {c.checkpoint});
  set_num_threads(c.threads);
  const std::vector<Tensor> weights = prior_covered_tensors(model);
  const Device device = weights.front().device();  // the prior, the optimiser and the batches follow the model
  auto prior = std::make_shared<GaussianMixturePrior>(prior_options(c), weights);
  // The four groups of the paper; a learned pi_0's logit goes with the mixing logits.
  NamedTensors mixing{{"prior.mixing_logits", prior->rho}};
  if (c.learn_pi0) mixing.push_back({"prior.zero_logit", prior->eta});
  Adam adam({{"weights", model.named_parameters(), {c.lr_weights, {}, {}, {}, {}}},
             {"means", {{"prior.means", prior->mu}}, {c.lr_means, {}, {}, {}, {}}},
             {"log_precisions", {{"prior.log_precisions", prior->gamma}}, {c.lr_log_precisions, {}, {}, {}, {}}},
             {"mixing_logits", mixing, {c.lr_mixing, {}, {}, {}, {}}}});
  Rng data_rng(c.seed ^ 0x7e7a1be5ULL);
  const int64_t n = train.size(), steps_per_epoch = (n + c.batch - 1) / c.batch;
  std::fprintf(stderr, "retrain %s: J = %lld, pi0 = %g%s, tau = %g, %lld epochs of %lld steps\n", c.model.c_str(),
               static_cast<long long>(c.components), c.pi0, c.learn_pi0 ? " (learned)" : "", c.tau, static_cast<long long>(c.epochs),
               static_cast<long long>(steps_per_epoch));
  const nlohmann::json settings = {
      {"model", c.model}, {"epochs", c.epochs}, {"batch", c.batch}, {"tau", c.tau},
      {"tau_warmup_epochs", c.tau_warmup_epochs}, {"lr_weights", c.lr_weights}, {"lr_means", c.lr_means},
      {"lr_log_precisions", c.lr_log_precisions}, {"lr_mixing", c.lr_mixing}, {"components", c.components},
      {"pi0", c.pi0}, {"learn_pi0", c.learn_pi0}, {"pi0_concentration", c.pi0_concentration}, {"init", c.init},
      {"seed", c.seed}, {"threads", c.threads}, {"device", device.name()}, {"train_images", n}, {"test_images", test.size()}};
  // Each epoch's weight histogram is kept in the metrics (the film of the run, tools/figures.h),
  // over a range fixed from the pretrained weights so that the frames line up.
  const double histogram_range = histogram_limit(weights);
  NamedTensors state_tensors = model.named_parameters();
  for (const auto& named : prior->named_parameters()) state_tensors.push_back(named);
  nlohmann::json epochs = nlohmann::json::array(), trajectory = nlohmann::json::array({prior_snapshot(*prior)});
  ResumeState resumed;
  if (c.resume && !c.checkpoint.empty()) {
    // The prior was initialised from the pretrained weights above, as in the interrupted run;
    // now every learned tensor, the optimiser and the data order take their saved values.
    resumed = load_resume_state(c.checkpoint, settings, state_tensors, adam);
    if (resumed.epochs_done > 0) {
      data_rng.set_state(resumed.rng_state);
      epochs = resumed.history.at("epochs");
      trajectory = resumed.history.at("prior_trajectory");
      std::fprintf(stderr, "resuming from %s after epoch %lld\n", c.checkpoint.c_str(),
                   static_cast<long long>(resumed.epochs_done));
    }
  }
  const auto start_time = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return resumed.seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  };
  double accuracy = epochs.empty() ? 0.0 : epochs.back().at("test_accuracy").get<double>();
  const NamedTensors params = model.named_parameters();
  Tensor x = Tensor::empty({c.batch, 1, 28, 28}, DType::F32, device), y = Tensor::empty({c.batch}, DType::I32, device);
  for (int64_t epoch = resumed.epochs_done + 1; epoch <= c.epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    // tau warm-up: linear from tau / warmup to tau over the first epochs.
    const double tau = c.tau_warmup_epochs > 0 ? c.tau * std::min(1.0, double(epoch) / c.tau_warmup_epochs) : c.tau;
    const std::vector<int64_t> order = data_rng.permutation(n);
    ProgressLine progress("retrain epoch " + std::to_string(epoch) + "/" + std::to_string(c.epochs));
    double ce_sum = 0, complexity = 0;
    for (int64_t s = 0; s < steps_per_epoch; ++s) {
      const int64_t first = s * c.batch, count = std::min(c.batch, n - first);
      if (count != x.size(0))
        x = Tensor::empty({count, 1, 28, 28}, DType::F32, device), y = Tensor::empty({count}, DType::I32, device);
      gather_batch(train, order, first, count, x, y);
      adam.zero_grad();
      const Tensor ce = cross_entropy(model(x), y);
      const Tensor prior_term = prior->complexity(weights);
      const Tensor loss = add(ce, mul_scalar(prior_term, tau / static_cast<double>(n)));
      const double value = loss.item();
      SWS_CHECK(std::isfinite(value), "retraining diverged at epoch " + std::to_string(epoch) + ", step " +
                                          std::to_string(s + 1) + ": the loss is " + std::to_string(value));
      loss.backward();
      check_finite(params, true, "retraining", epoch, s + 1, "try a smaller --tau or --lr-weights");
      adam.step();
      check_finite(params, false, "retraining", epoch, s + 1, "try a smaller --tau or --lr-weights");
      check_prior(*prior, epoch, s + 1);
      ce_sum += ce.item() * count;
      complexity = prior_term.item();
      char detail[96];
      std::snprintf(detail, sizeof detail, "cross-entropy %.4f  complexity %.4g", ce_sum / (first + count), complexity);
      progress.update(s + 1, steps_per_epoch, first + count, detail);
    }
    progress.finish();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    accuracy = evaluate_accuracy(model, test);
    std::printf("retrain epoch %lld/%lld  cross-entropy %.4f  complexity %.5g  test accuracy %.2f%%  (%s)\n",
                static_cast<long long>(epoch), static_cast<long long>(c.epochs), ce_sum / n, complexity,
                100.0 * accuracy, format_duration(seconds).c_str());
    std::fflush(stdout);
    const auto figure_start = std::chrono::steady_clock::now();
    nlohmann::json histogram = weight_histogram(weights, histogram_range);
    epochs.push_back({{"epoch", epoch}, {"cross_entropy", ce_sum / n}, {"complexity", complexity}, {"tau", tau},
                      {"test_accuracy", accuracy}, {"train_seconds", seconds},
                      {"weight_histogram", std::move(histogram)}});
    trajectory.push_back(prior_snapshot(*prior));
    if (!c.frames_dir.empty() && (epoch % c.frame_every == 0 || epoch == c.epochs))
      draw_epoch_frame(c.frames_dir, epoch, c.epochs, c.model, epochs.back()["weight_histogram"], trajectory.back());
    // The figures' cost (histogram and frame), to check it stays a small fraction of the epoch.
    epochs.back()["figure_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - figure_start).count();
    if (!c.checkpoint.empty())
      save_resume_state(c.checkpoint,
                        {epoch, data_rng.state(), settings, {{"epochs", epochs}, {"prior_trajectory", trajectory}}, elapsed()},
                        state_tensors, adam);
  }
  RetrainResult r;
  r.prior = prior;
  r.test_accuracy = accuracy;
  r.seconds = elapsed();
  r.metrics = {{"stage", "retrained"}, {"test_accuracy", accuracy}, {"seconds", r.seconds}, {"epochs", epochs},
               {"prior_trajectory", trajectory},
               {"settings", settings}};
  return r;
}

void save_prior(const GaussianMixturePrior& prior, const std::string& path) {
  std::vector<Tensor> host;
  std::vector<SafetensorsView> views;
  for (const auto& [name, t] : prior.named_parameters()) {
    host.push_back(t.to(Device::cpu()).contiguous().to(DType::F32));
    views.push_back({name, DType::F32, host.back().shape(), host.back().raw_data()});
  }
  const PriorOptions& o = prior.options();
  const nlohmann::json options = {{"components", o.components}, {"pi_zero", o.pi_zero}, {"init", o.init},
                                  {"init_range", o.init_range}, {"init_sigma", o.init_sigma},
                                  {"alpha_zero", o.alpha_zero}, {"beta_zero", o.beta_zero}, {"alpha", o.alpha},
                                  {"beta", o.beta}, {"learn_pi_zero", o.learn_pi_zero},
                                  {"pi_zero_concentration", o.pi_zero_concentration}};
  write_safetensors(path, views, {{"sws.prior", options.dump()}});
}

std::shared_ptr<GaussianMixturePrior> load_prior(const std::string& path, const std::vector<Tensor>& weights) {
  const SafetensorsFile file = read_safetensors(path);
  auto it = file.metadata.find("sws.prior");
  SWS_CHECK(it != file.metadata.end(), path + ": not a prior file (no 'sws.prior' metadata)");
  PriorOptions o;
  try {
    const auto j = nlohmann::json::parse(it->second);
    o.components = j.at("components").get<int64_t>();
    o.pi_zero = j.at("pi_zero").get<double>();
    o.init = j.at("init").get<std::string>();
    o.init_range = j.at("init_range").get<double>();
    o.init_sigma = j.at("init_sigma").get<double>();
    o.alpha_zero = j.at("alpha_zero").get<double>(), o.beta_zero = j.at("beta_zero").get<double>();
    o.alpha = j.at("alpha").get<double>(), o.beta = j.at("beta").get<double>();
    o.learn_pi_zero = j.value("learn_pi_zero", false);
    o.pi_zero_concentration = j.value("pi_zero_concentration", o.pi_zero_concentration);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed prior options: " + e.what());
  }
  auto prior = std::make_shared<GaussianMixturePrior>(o, weights);
  for (auto& [name, t] : prior->named_parameters()) {
    const SafetensorsEntry* e = file.find(name);
    SWS_CHECK(e && e->dtype == DType::F32 && e->shape == t.shape(),
              path + ": missing or mis-shaped tensor '" + name + "' (expected F32" + shape_str(t.shape()) + ")");
    Tensor host = Tensor::empty(e->shape, DType::F32);
    std::copy(e->bytes.begin(), e->bytes.end(), static_cast<uint8_t*>(host.raw_data()));
    Tensor target = t;
    target.copy_(host);
  }
  return prior;
}

}  // namespace sws
