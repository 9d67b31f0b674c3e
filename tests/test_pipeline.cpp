// The training loop and the pipeline as a library for a model of one's own (optim/training_loop.h,
// compress/pipeline.h), on real MNIST digits: a NaN stops the run by name, an interrupted run
// resumes bit-identically, and the whole pipeline on the 784-128-64-10 MLP reports the accuracy
// that its .sws file, read back into a fresh module, really has.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "autograd/ops.h"
#include "compress/adaptive_rule.h"
#include "compress/pipeline.h"
#include "compress/quantization_gap.h"
#include "compress/sws_module.h"
#include "compress/validation_merging.h"
#include "compress/validation_pruning.h"
#include "core/error.h"
#include "nn/layers.h"
#include "optim/adam.h"
#include "temp_dir.h"

using namespace sws;

namespace {

// The MLP of issue 14's user, written as a module of one's own (not a Sequential).
class Mlp : public Module {
 public:
  explicit Mlp(uint64_t seed) {
    Rng rng(seed);
    fc1 = register_module("fc1", std::make_shared<Linear>(784, 128, rng));
    fc2 = register_module("fc2", std::make_shared<Linear>(128, 64, rng));
    fc3 = register_module("fc3", std::make_shared<Linear>(64, 10, rng));
  }
  Tensor forward(const Tensor& x) override { return (*fc3)(relu((*fc2)(relu((*fc1)(flatten(x)))))); }
  std::shared_ptr<Linear> fc1, fc2, fc3;
};

const Mnist& mnist() {
  static const Mnist data = [] {
    REQUIRE_MESSAGE(std::filesystem::exists(SWS_MNIST_DIR), "MNIST not found in " SWS_MNIST_DIR);
    return load_mnist(SWS_MNIST_DIR);
  }();
  return data;
}

// Adam that writes a NaN into one parameter at a given step, as a diverging update would.
class PoisonedAdam : public Adam {
 public:
  PoisonedAdam(const NamedTensors& params, int64_t poison_at) : Adam({{"weights", params, {}}}), poison_at_(poison_at) {
    target_ = params[2].second;  // fc2.weight
  }
  void step() override {
    Adam::step();
    if (++steps_ == poison_at_) target_.data<float>()[7] = std::numeric_limits<float>::quiet_NaN();
  }

 private:
  int64_t poison_at_, steps_ = 0;
  Tensor target_;
};

StepLoss cross_entropy_step(Module& net, const TrainingStep& s) {
  Tensor loss = cross_entropy(net(s.x), s.y);
  return StepLoss{loss, {{"train_loss", loss}}};
}

// Per-epoch records without their timings (which differ run to run).
nlohmann::json without_times(nlohmann::json records) {
  for (auto& r : records)
    for (const char* key : {"train_seconds", "snap_seconds", "figure_seconds"}) r.erase(key);
  return records;
}

std::vector<std::vector<float>> values(const Module& m) {
  std::vector<std::vector<float>> v;
  for (const Tensor& t : m.parameters()) v.push_back(t.to_float_vector());
  return v;
}

}  // namespace

TEST_CASE("training loop: a NaN written by a step stops the run naming epoch, step and tensor") {
  const Dataset train = make_dataset(mnist().train, 256);
  Mlp net(1);
  PoisonedAdam adam(net.named_parameters(), 11);  // 8 steps per epoch: epoch 2, step 3
  TrainingLoopOptions o;
  o.stage = "pretraining", o.epochs = 3, o.batch = 32, o.hint = "try a smaller learning rate";
  TrainingLoop loop(o, adam, net.named_parameters(), net);
  CHECK_THROWS_WITH_AS(loop.run(train, [&](const TrainingStep& s) { return cross_entropy_step(net, s); }),
                       doctest::Contains("pretraining stopped at epoch 2, step 3: fc2.weight holds nan (entry 7)"), Error);
  TrainingLoopOptions no_epochs;
  no_epochs.epochs = 0;
  CHECK_THROWS_WITH_AS(TrainingLoop(no_epochs, adam, net.named_parameters(), net),
                       doctest::Contains("epochs must be at least 1"), Error);
}

TEST_CASE("training loop: a run stopped after an epoch's checkpoint resumes bit-identically") {
  testing::TempDir dir("loop_resume");
  const Dataset train = make_dataset(mnist().train, 300), test = make_dataset(mnist().test, 100);
  auto run = [&](const std::string& checkpoint, int64_t crash_after_epoch) {
    Mlp net(3);
    Adam adam({{"weights", net.named_parameters(), {}}});
    TrainingLoopOptions o;
    o.epochs = 3, o.batch = 64, o.shuffle_seed = 9, o.checkpoint = checkpoint, o.resume = true;
    o.settings = {{"what", "resume test"}};
    o.evaluations = {{"test_accuracy", &test}};
    TrainingObserver observer;
    // A crash inside the epoch's end, before its checkpoint: the previous epoch's stays.
    observer.on_epoch = [&](EpochEnd& e) {
      if (e.epoch == crash_after_epoch + 1) throw std::runtime_error("killed");
    };
    TrainingLoop loop(o, adam, net.named_parameters(), net, observer);
    const nlohmann::json history = loop.run(train, [&](const TrainingStep& s) { return cross_entropy_step(net, s); });
    return std::make_pair(values(net), history);
  };
  const auto straight = run(dir.file("straight.safetensors"), 99);
  CHECK_THROWS(run(dir.file("interrupted.safetensors"), 1));
  const auto resumed = run(dir.file("interrupted.safetensors"), 99);
  CHECK(resumed.first == straight.first);
  REQUIRE(resumed.second["epochs"].size() == 3);
  for (int e = 0; e < 3; ++e) {
    CHECK(resumed.second["epochs"][e]["train_loss"] == straight.second["epochs"][e]["train_loss"]);
    CHECK(resumed.second["epochs"][e]["test_accuracy"] == straight.second["epochs"][e]["test_accuracy"]);
  }
}

TEST_CASE("pipeline: a 784-128-64-10 MLP of one's own, pretrained, retrained, quantised, written and read back (slow)") {
  testing::TempDir dir("pipeline_mlp");
  const Dataset train = make_dataset(mnist().train, 2000), test = make_dataset(mnist().test, 500);
  Mlp net(1);
  PipelineSettings settings = preset_settings("mlp");
  settings.pretrain.epochs = 3;  // on the first 1,800 images; the last 200 are the validation split
  settings.retrain.epochs = 4;
  settings.retrain.tau = 0.03;
  settings.retrain.prior.pi_zero = 0.99;
  settings.retrain.prior.init_sigma = 0.05;
  settings.retrain.rule = "fixed";  // exactly 4 epochs (the adaptive rule has its own tests)
  settings.postprocess.snap.rule = Assignment::MaximumLikelihood;
  settings.postprocess.finetune.epochs = 1;
  settings.max_accuracy_drop = 1;  // this test is about the API, not about the quantised accuracy
  PipelineRun run;
  run.out_dir = dir.path.string();
  run.architecture = "mlp-784-128-64-10";
  const PipelineResult r = compress_model(net, settings, train, test, run);

  // What the pipeline reports is what the file holds.
  Mlp fresh(77);
  load_sws_into(fresh, read_sws(dir.file("model.sws")), "model.sws");
  CHECK(evaluate_accuracy(fresh, test) == r.quantized_accuracy);
  CHECK(values(fresh) == values(net));
  CHECK(r.file_bytes == static_cast<int64_t>(std::filesystem::file_size(dir.file("model.sws"))));
  CHECK(r.pretrained_accuracy > 0.6);  // it did learn (chance is 0.1; 0.78 here)
  CHECK(r.nonzero_fraction > 0);
  CHECK(r.nonzero_fraction < 1);
  // metrics.json says the same, and carries every setting that was used.
  std::ifstream in(dir.file("metrics.json"));
  const nlohmann::json m = nlohmann::json::parse(in);
  CHECK(m["quantized"]["test_accuracy"] == r.quantized_accuracy);
  CHECK(m["quantized"]["validation_accuracy"] == r.quantized_validation);
  CHECK(m["train_images"] == 1800);
  CHECK(m["validation_images"] == 200);
  CHECK(m["status"] == "ok");
  CHECK(m["compression"]["file_bytes"] == r.file_bytes);
  CHECK(m["retrained"]["settings"]["init_sigma"] == 0.05);
  CHECK(m["retrained"]["settings"]["pi0"] == 0.99);
  CHECK(m["retrained"]["settings"]["model"] == "mlp-784-128-64-10");
  CHECK(m["retrained"]["epochs"].size() == 4);
  CHECK(m["quantized"]["codebook_finetune_epochs"] == 1);
  for (const char* f : {"pretrained.safetensors", "retrained.safetensors", "quantized.safetensors", "prior.safetensors",
                        "checkpoints/pretrain.safetensors", "checkpoints/retrain.safetensors"})
    CHECK_MESSAGE(std::filesystem::exists(dir.file(f)), f);

  // Running it again with resume on finds both stages finished and writes the same file.
  const std::string first = [&] {
    std::ifstream f(dir.file("model.sws"), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }();
  Mlp again(1);
  run.resume = true;
  const PipelineResult r2 = compress_model(again, settings, train, test, run);
  std::ifstream f(dir.file("model.sws"), std::ios::binary);
  CHECK(std::string(std::istreambuf_iterator<char>(f), {}) == first);
  CHECK(r2.quantized_accuracy == r.quantized_accuracy);
}

TEST_CASE("pipeline: invalid settings are refused before any file is written") {
  testing::TempDir dir("pipeline_refused");
  const Dataset train = make_dataset(mnist().train, 100), test = make_dataset(mnist().test, 100);
  Mlp net(1);
  PipelineSettings settings = preset_settings("mlp");
  settings.retrain.prior.init_sigma = -1;
  PipelineRun run;
  run.out_dir = dir.file("run");
  CHECK_THROWS_WITH_AS(compress_model(net, settings, train, test, run), doctest::Contains("sigma"), Error);
  CHECK(!std::filesystem::exists(dir.file("run")));
  settings = preset_settings("mlp");
  settings.pretrain.schedule = "linear";
  CHECK_THROWS_WITH_AS(compress_model(net, settings, train, test, run), doctest::Contains("schedule"), Error);
}

namespace {

// A short pretraining of the MLP on the first `n` digits, for the retraining tests below.
struct Pretrained {
  Mlp net{1};
  DataSplit split;
  Dataset all;
  explicit Pretrained(int64_t n) : all(make_dataset(mnist().train, n)) {
    split = split_validation(all, 0.1);
    PretrainSettings p;
    p.epochs = 2;
    pretrain(net, p, split.train, StageRun{});
  }
};

}  // namespace

TEST_CASE("quantisation gap: the snapped accuracy equals snapping a copy by hand, and the weights come back") {
  Pretrained pre(1000);
  RetrainSettings r;
  r.epochs = 1, r.rule = "fixed";
  StageRun run;
  run.evaluations = {{"validation_accuracy", &pre.split.validation}};
  const RetrainResult result = retrain(pre.net, r, SnapSettings{}, pre.split.train, run);
  const auto before = values(pre.net);
  SnapSettings snap;
  snap.rule = Assignment::MaximumLikelihood;
  const double measured = snapped_accuracy(pre.net, *result.prior, snap, pre.split.validation);
  CHECK(values(pre.net) == before);  // restored bit-exactly
  // By hand: a second module with the same weights, merged and assigned, then evaluated.
  Mlp copy(5);
  const auto src = pre.net.parameters(), dst = copy.parameters();
  for (size_t i = 0; i < src.size(); ++i) Tensor(dst[i]).copy_(src[i]);
  const Mixture merged = merge_within_widths(merge_components(learned_mixture(*result.prior), snap.merge_kl), snap.merge_widths);
  assign_to_means(copy.parameters(), merged, Assignment::MaximumLikelihood);
  CHECK(measured == evaluate_accuracy(copy, pre.split.validation));
  // The retraining record holds it every epoch, beside the unquantised accuracy.
  const nlohmann::json& e = result.metrics["epochs"][0];
  CHECK(e.contains("snapped_validation_accuracy"));
  CHECK(e.contains("validation_accuracy"));
  CHECK(e["snap_seconds"].get<double>() >= 0);
}

TEST_CASE("adaptive retraining: extends while the gap is open and resumes bit-identically in the extension") {
  testing::TempDir dir("adaptive_resume");
  RetrainSettings r;
  r.epochs = 2, r.max_epochs = 4, r.gap_tolerance = 0;  // the gap stays open: every extra epoch is run
  r.tau_growth = 1.5, r.sigma_anneal = 0.7, r.max_accuracy_loss = 1;
  auto run_once = [&](const std::string& checkpoint, int64_t crash_at) {
    Pretrained pre(1000);
    StageRun run;
    run.checkpoint = checkpoint, run.resume = true;
    run.evaluations = {{"validation_accuracy", &pre.split.validation}};
    run.observer.on_epoch = [&](EpochEnd& e) {
      if (e.epoch == crash_at) throw std::runtime_error("killed");
    };
    RetrainResult result = retrain(pre.net, r, SnapSettings{}, pre.split.train, run);
    return std::make_pair(values(pre.net), result.metrics);
  };
  const auto straight = run_once(dir.file("straight.safetensors"), 99);
  REQUIRE(straight.second["epochs_run"] == 4);            // the rule extended past the 2 epochs
  CHECK(straight.second["stop_reason"] == "epoch cap");
  CHECK(straight.second["tau_scale"].get<double>() == doctest::Approx(1.5 * 1.5));
  CHECK(straight.second["sigma_cap"].get<double>() > 0);  // and annealed the variances
  CHECK(straight.second["epochs"][3]["tau"].get<double>() == doctest::Approx(0.005 * 1.5 * 1.5));
  // and relaxed pi_0 (0.999 by default): 1 - pi_0 x 1.5 after each extra epoch, not below 0.99.
  CHECK(straight.second["epochs"][1]["pi0"].get<double>() == 0.999);
  CHECK(straight.second["epochs"][3]["pi0"].get<double>() == doctest::Approx(1 - 0.001 * 1.5 * 1.5));
  CHECK(straight.second["pi0"].get<double>() == straight.second["epochs"][3]["pi0"].get<double>());  // stopped at the cap
  CHECK_THROWS(run_once(dir.file("resumed.safetensors"), 4));  // dies in epoch 4; epoch 3's state is on disk
  const auto resumed = run_once(dir.file("resumed.safetensors"), 99);
  CHECK(resumed.first == straight.first);
  CHECK(without_times(resumed.second["epochs"]) == without_times(straight.second["epochs"]));
  CHECK(resumed.second["prior_trajectory"] == straight.second["prior_trajectory"]);
  CHECK(resumed.second["sigma_cap"] == straight.second["sigma_cap"]);
  CHECK(resumed.second["pi0"] == straight.second["pi0"]);
}

TEST_CASE("adaptive retraining: stops as soon as the gap is within the tolerance after the minimum epochs") {
  Pretrained pre(1000);
  RetrainSettings r;
  r.epochs = 1, r.max_epochs = 5, r.gap_tolerance = 1.0;  // any gap is within 100 points
  StageRun run;
  run.evaluations = {{"validation_accuracy", &pre.split.validation}};
  const RetrainResult result = retrain(pre.net, r, SnapSettings{}, pre.split.train, run);
  CHECK(result.metrics["epochs_run"] == 1);
  CHECK(result.metrics["tau_scale"] == 1.0);
  CHECK(result.metrics["stop_reason"] == "gap closed");
  // Without a validation set the adaptive rule cannot decide.
  CHECK_THROWS_WITH_AS(retrain(pre.net, r, SnapSettings{}, pre.split.train, StageRun{}),
                       doctest::Contains("validation set"), Error);
}

TEST_CASE("pipeline: a model that post-processing breaks is a QuantizationFailure, its files marked FAILED") {
  testing::TempDir dir("pipeline_failure");
  const Dataset train = make_dataset(mnist().train, 1000), test = make_dataset(mnist().test, 200);
  Mlp net(1);
  PipelineSettings settings = preset_settings("mlp");
  settings.pretrain.epochs = 2;
  settings.retrain.epochs = 1, settings.retrain.rule = "fixed";
  settings.retrain.tau = 1e4;  // impossible: the prior swamps the data and everything goes to zero
  PipelineRun run;
  run.out_dir = dir.path.string();
  bool thrown = false;
  try {
    compress_model(net, settings, train, test, run);
  } catch (const QuantizationFailure& f) {
    thrown = true;
    CHECK(std::string(f.what()).find("points of validation accuracy") != std::string::npos);
    CHECK(std::string(f.what()).find("--tau") != std::string::npos);
    CHECK(f.result().failed);
    CHECK(f.result().retrained_validation - f.result().quantized_validation > 0.02);
  }
  REQUIRE(thrown);
  CHECK(std::filesystem::exists(dir.file("FAILED-model.sws")));
  CHECK(!std::filesystem::exists(dir.file("model.sws")));
  std::ifstream in(dir.file("metrics.json"));
  const nlohmann::json m = nlohmann::json::parse(in);
  CHECK(m["status"] == "failed");
  CHECK(m["compression"]["file"] == "FAILED-model.sws");
}

TEST_CASE("adaptive retraining closes a gap the fixed schedule leaves, on inverted digits") {
  // Data that is not MNIST as the presets know it: the first 2,000 training digits inverted
  // (1 - x), held out 10% for validation.
  Dataset inverted = make_dataset(mnist().train, 2000);
  float* x = inverted.images.data<float>();
  for (int64_t i = 0; i < inverted.images.numel(); ++i) x[i] = 1.0f - x[i];
  const DataSplit split = split_validation(inverted, 0.1);
  auto retrained = [&](const RetrainSettings& r) {
    Mlp net(1);
    PretrainSettings p;
    p.epochs = 3;
    pretrain(net, p, split.train, StageRun{});
    StageRun run;
    run.evaluations = {{"validation_accuracy", &split.validation}};
    return retrain(net, r, SnapSettings{}, split.train, run).metrics;
  };
  RetrainSettings fixed;
  fixed.epochs = 3, fixed.rule = "fixed", fixed.prior.pi_zero = 0.99;
  RetrainSettings adaptive = fixed;
  adaptive.rule = "adaptive", adaptive.max_epochs = 12, adaptive.gap_tolerance = 0.02;
  adaptive.tau_growth = 1, adaptive.sigma_anneal = 0.5, adaptive.max_accuracy_loss = 0.05;
  const nlohmann::json f = retrained(fixed), a = retrained(adaptive);
  auto gap = [](const nlohmann::json& m) {
    const nlohmann::json& e = m["epochs"].back();
    return e["validation_accuracy"].get<double>() - e["snapped_validation_accuracy"].get<double>();
  };
  MESSAGE("fixed: gap " << gap(f) << " after " << f["epochs_run"] << " epochs; adaptive: gap " << gap(a) << " after "
                        << a["epochs_run"] << " epochs (" << a["stop_reason"] << ")");
  CHECK(gap(f) > 0.2);    // the paper's schedule leaves the snapped model far behind
  CHECK(gap(a) <= 0.02);  // the adaptive rule closes it
  CHECK(a["stop_reason"] == "gap closed");
  CHECK(a["epochs"].back()["validation_accuracy"].get<double>() >
        f["epochs"].back()["validation_accuracy"].get<double>() - 0.05);  // without giving up the model
}

TEST_CASE("adaptive rule: scripted accuracies, every stop and the state it carries") {
  RetrainSettings s;  // gap tolerance 0.005, tau x1.25, sigma x0.9, 1 - pi_0 x1.5 down to 0.99,
  s.epochs = 3, s.max_epochs = 20;  // guard 1 point with a patience of 3
  nlohmann::json state = initial_rule_state(s);
  CHECK(state["pi0"] == 0.999);
  // Epoch 3 (the planned end): gap open, so extend; the references are set.
  CHECK(adaptive_rule_step(s, 3, 0.90, 0.50, 0.04, state) == "");
  CHECK(state["accuracy_after_minimum"] == 0.90);
  CHECK(state["tau_scale"].get<double>() == doctest::Approx(1.25));
  CHECK(state["sigma_cap"].get<double>() == doctest::Approx(0.036));
  CHECK(state["pi0"].get<double>() == doctest::Approx(0.9985));
  // The cap only tightens: a wider component later does not loosen it.
  CHECK(adaptive_rule_step(s, 4, 0.89, 0.60, 0.05, state) == "");
  CHECK(state["sigma_cap"].get<double>() == doctest::Approx(0.036 * 0.9));
  CHECK(state["epochs_without_gain"] == 0);
  // pi_0 reaches its floor and stays there.
  for (int epoch = 5; epoch <= 9; ++epoch) CHECK(adaptive_rule_step(s, epoch, 0.895, 0.60 + epoch * 0.01, 0.05, state) == "");
  CHECK(state["pi0"].get<double>() == 0.99);
  // Fallen more than a point, the snapped accuracy stalls: patience 3, then "accuracy falling".
  CHECK(adaptive_rule_step(s, 10, 0.88, 0.65, 0.05, state) == "");
  CHECK(adaptive_rule_step(s, 11, 0.88, 0.69, 0.05, state) == "");
  CHECK(state["epochs_without_gain"] == 2);
  CHECK(adaptive_rule_step(s, 12, 0.88, 0.69, 0.05, state) == "accuracy falling");
  // A gain resets the count; a closed gap stops at once; the cap stops the rest.
  nlohmann::json other = initial_rule_state(s);
  CHECK(adaptive_rule_step(s, 3, 0.90, 0.50, 0.04, other) == "");
  CHECK(adaptive_rule_step(s, 4, 0.88, 0.49, 0.04, other) == "");
  CHECK(adaptive_rule_step(s, 5, 0.88, 0.49, 0.04, other) == "");
  CHECK(adaptive_rule_step(s, 6, 0.88, 0.51, 0.04, other) == "");  // better than 0.50: counting again
  CHECK(other["epochs_without_gain"] == 0);
  CHECK(adaptive_rule_step(s, 7, 0.88, 0.876, 0.04, other) == "gap closed");
  CHECK(adaptive_rule_step(s, 20, 0.90, 0.10, 0.04, other) == "epoch cap");
  // Accuracy held: no guard, however long the snapped accuracy stalls.
  nlohmann::json held = initial_rule_state(s);
  s.max_epochs = 100;
  for (int epoch = 3; epoch < 20; ++epoch) CHECK(adaptive_rule_step(s, epoch, 0.90, 0.30, 0.04, held) == "");
  // A pi_0 at or below the floor, or a learned one, is not relaxed.
  s.prior.pi_zero = 0.99;
  nlohmann::json tutorial = initial_rule_state(s);
  CHECK(adaptive_rule_step(s, 3, 0.90, 0.50, 0.04, tutorial) == "");
  CHECK(tutorial["pi0"] == 0.99);
  s.prior.pi_zero = 0.999, s.prior.learn_pi_zero = true;
  nlohmann::json learned = initial_rule_state(s);
  CHECK(adaptive_rule_step(s, 3, 0.90, 0.50, 0.04, learned) == "");
  CHECK(learned["pi0"] == 0.999);
}

TEST_CASE("validation pruning: zeroes whole groups within the budget and restores the rest exactly") {
  Pretrained pre(1000);
  // Weights on a grid of 0.05 (as after assignment), so that each tensor has a few groups.
  std::set<float> grid_values;
  int64_t nonzeros = 0;
  for (Tensor p : pre.net.parameters()) {
    float* w = p.data<float>();
    for (int64_t i = 0; i < p.numel(); ++i) {
      w[i] = 0.05f * std::round(w[i] / 0.05f);
      if (w[i] != 0.0f) grid_values.insert(w[i]), ++nonzeros;
    }
  }
  const Dataset& validation = pre.split.validation;
  const double base = evaluate_accuracy(pre.net, validation);
  const ValidationPruningResult r = prune_by_validation(pre.net, validation, 0.02);
  CHECK(r.accuracy_before == base);
  CHECK(r.accuracy_after >= base - 0.02);                            // the budget holds
  CHECK(evaluate_accuracy(pre.net, validation) == r.accuracy_after);  // and is what the model now scores
  CHECK(r.groups_zeroed > 0);
  CHECK(r.groups_zeroed < r.groups);
  int64_t left = 0;
  bool restored_exactly = true;  // every rejected group has its value back
  for (const Tensor& p : pre.net.parameters())
    for (float v : p.to_float_vector())
      if (v != 0.0f) ++left, restored_exactly = restored_exactly && grid_values.count(v) == 1;
  CHECK(restored_exactly);
  CHECK(left == nonzeros - r.weights_zeroed);
  // A budget of 100 points zeroes everything; budgets outside [0, 1] are refused.
  const ValidationPruningResult all = prune_by_validation(pre.net, validation, 1.0);
  CHECK(all.groups_zeroed == all.groups);
  CHECK(all.weights_zeroed == left);
  CHECK_THROWS_WITH_AS(prune_by_validation(pre.net, validation, -0.1), doctest::Contains("--prune-budget"), Error);
}

TEST_CASE("validation merging: neighbouring values become their weights' mean within the budget, never across zero") {
  auto on_grid = [](Module& net) {  // every weight on a grid of 0.02, as after assignment
    for (Tensor p : net.parameters()) {
      float* w = p.data<float>();
      for (int64_t i = 0; i < p.numel(); ++i) w[i] = 0.02f * std::round(w[i] / 0.02f);
    }
  };
  Pretrained pre(1000);
  on_grid(pre.net);
  const auto grid = values(pre.net);
  auto distinct = [&](int sign) {  // distinct values of one sign now in the net
    std::set<float> out;
    for (const auto& t : values(pre.net))
      for (float v : t)
        if (sign * v > 0) out.insert(v);
    return out;
  };
  const size_t negative = distinct(-1).size(), positive = distinct(1).size();
  REQUIRE(negative >= 3);
  REQUIRE(positive >= 3);
  const Dataset& validation = pre.split.validation;
  const double base = evaluate_accuracy(pre.net, validation);
  const ValidationMergingResult r = merge_by_validation(pre.net, validation, 0.02);
  CHECK(r.values_before == static_cast<int64_t>(negative + positive));
  CHECK(r.accuracy_before == base);
  CHECK(r.accuracy_after >= base - 0.02 - 1e-9);                      // the budget holds
  CHECK(evaluate_accuracy(pre.net, validation) == r.accuracy_after);  // and is what the model now scores
  CHECK(r.values_after < r.values_before);
  CHECK(r.values_after == static_cast<int64_t>(distinct(-1).size() + distinct(1).size()));
  // Each weight keeps its sign (zero stays zero) and each value is the mean of the grid values of
  // the weights that now hold it (to float rounding: a merge of merges averages rounded means).
  const auto merged = values(pre.net);
  std::map<float, std::pair<double, int64_t>> sums;
  bool signs_kept = true;
  for (size_t t = 0; t < grid.size(); ++t)
    for (size_t i = 0; i < grid[t].size(); ++i) {
      const float before = grid[t][i], after = merged[t][i];
      signs_kept = signs_kept && (before > 0) == (after > 0) && (before < 0) == (after < 0);
      if (after != 0.0f) sums[after].first += before, ++sums[after].second;
    }
  CHECK(signs_kept);
  double worst = 0;
  for (const auto& [value, sum] : sums) worst = std::max(worst, std::abs(sum.first / sum.second - value) / std::abs(value));
  CHECK(worst < 1e-5);
  // A budget of 100 points leaves one value per sign; budgets outside [0, 1] and an empty
  // validation set are refused.
  const ValidationMergingResult all = merge_by_validation(pre.net, validation, 1.0);
  CHECK(all.values_after == 2);
  CHECK(distinct(-1).size() == 1);
  CHECK(distinct(1).size() == 1);
  CHECK_THROWS_WITH_AS(merge_by_validation(pre.net, validation, 1.5), doctest::Contains("--merge-budget"), Error);
  CHECK_THROWS_WITH_AS(merge_by_validation(pre.net, Dataset{}, 0.01), doctest::Contains("validation set"), Error);
}

TEST_CASE("validation merging: the pair that keeps the accuracy wins, ties go to the cheaper pair, and it stops") {
  // One 2 -> 2 linear layer without bias (logit_k = w_k0 x_0 + w_k1 x_1) and one example.
  auto net_with = [](const std::vector<float>& w) {
    Rng rng(1);
    auto net = std::make_shared<Linear>(2, 2, rng, false);
    std::copy(w.begin(), w.end(), net->weight.data<float>());
    return net;
  };
  auto one_example = [](float x0, float x1, int32_t label) {
    Dataset d;
    d.images = Tensor::from_vector(std::vector<float>{x0, x1}, {1, 2});
    d.labels = Tensor::from_vector(std::vector<int32_t>{label}, {1});
    return d;
  };
  auto positives = [](const Linear& net) {
    std::set<float> out;
    for (float v : net.weight.to_float_vector())
      if (v > 0) out.insert(v);
    return out;
  };
  auto mean = [](float a, float b) { return static_cast<float>((static_cast<double>(a) + b) / 2); };
  // Accuracy decides: on x = (1, 0.5), class 1 (logits 1.55, 2), merging 1 and 1.1 keeps the
  // class (1.575, 2) and merging 1.1 and 3 flips it (2.025, 1.05). Then 1.05 and 3 would flip it
  // too (2.55, 0.7): at budget 0 merging stops there. -2 has no neighbour of its sign.
  auto a = net_with({1.0f, 1.1f, 3.0f, -2.0f});
  const ValidationMergingResult r = merge_by_validation(*a, one_example(1.0f, 0.5f, 1), 0.0);
  CHECK(positives(*a) == std::set<float>{mean(1.0f, 1.1f), 3.0f});
  CHECK(r.values_before == 4);
  CHECK(r.values_after == 3);
  CHECK(r.accuracy_after == 1.0);
  CHECK(r.evaluations == 1 + 2 + 1);  // before; round 1's two pairs; round 2's one
  // A tie: on x = (1, 0.05) both merges keep class 1, so the smaller growth of the squared error
  // wins: 2 and 2.1 (0.005) before 1 and 2 (0.5). All three as one (1.7) would flip it: a stop.
  auto b = net_with({1.0f, 2.0f, 2.1f, -2.0f});
  merge_by_validation(*b, one_example(1.0f, 0.05f, 1), 0.0);
  CHECK(positives(*b) == std::set<float>{1.0f, mean(2.0f, 2.1f)});
}
