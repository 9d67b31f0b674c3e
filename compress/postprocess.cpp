#include "compress/postprocess.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <set>
#include <string>

#include "compress/dead_units.h"
#include "compress/quantization_gap.h"
#include "compress/validation_merging.h"
#include "compress/validation_pruning.h"
#include "core/error.h"

namespace sws {

void validate(const PostprocessSettings& s) {
  validate(s.snap);
  SWS_CHECK(s.finetune.epochs >= 0, "--finetune-epochs must be >= 0");
  SWS_CHECK(!s.prune_budget || (*s.prune_budget >= 0 && *s.prune_budget <= 1),
            "--prune-budget must lie between 0 and 1 (a fraction: 0.002 is 0.2 points)");
  SWS_CHECK(!s.merge_budget || (*s.merge_budget >= 0 && *s.merge_budget <= 1),
            "--merge-budget must lie between 0 and 1 (a fraction: 0.002 is 0.2 points)");
  SWS_CHECK(s.finetune.batch >= 1, "--finetune-batch must be at least 1");
  SWS_CHECK(s.finetune.lr > 0 && std::isfinite(s.finetune.lr), "--finetune-lr must be positive");
}

nlohmann::json to_json(const PostprocessSettings& s) {
  nlohmann::json j = {{"merge_kl", s.snap.merge_kl}, {"merge_widths", s.snap.merge_widths},
                      {"assignment", s.snap.rule == Assignment::MaximumAPosteriori ? "map" : "ml"},
                      {"finetune_epochs", s.finetune.epochs}, {"finetune_batch", s.finetune.batch},
                      {"finetune_lr", s.finetune.lr}, {"seed", s.finetune.seed}};
  // Only when pruning is on, so that the metrics of runs without it keep their bytes.
  if (s.prune_budget) j["prune_budget"] = *s.prune_budget;
  if (s.merge_budget) j["merge_budget"] = *s.merge_budget;
  if (s.remove_dead_units) j["remove_dead_units"] = true;
  return j;
}

namespace {

// The accuracy on every evaluation dataset, by name.
std::vector<std::pair<std::string, double>> accuracies(Module& model, const StageRun& run) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [name, data] : run.evaluations) out.emplace_back(name, evaluate_accuracy(model, *data));
  return out;
}

// One line, printf-style, for the run's observer when it listens.
__attribute__((format(printf, 2, 3))) void note(const StageRun& run, const char* format, ...) {
  if (!run.observer.on_note) return;
  char line[200];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  run.observer.on_note(line);
}

}  // namespace

PostprocessResult postprocess(Module& model, const GaussianMixturePrior& prior, const PostprocessSettings& settings,
                              const Dataset& train, const StageRun& run) {
  validate(settings);
  const auto start = std::chrono::steady_clock::now();
  PostprocessResult r;
  const auto before = accuracies(model, run);
  const Mixture learned = learned_mixture(prior);
  const Mixture merged = merged_mixture(learned, settings.snap);
  r.components_merged = static_cast<int64_t>(learned.size() - merged.size());
  assign_to_means(model.parameters(), merged, settings.snap.rule);
  nlohmann::json pruning;
  if (settings.prune_budget) {
    SWS_CHECK(!run.evaluations.empty(), "--prune-budget decides on a validation set: give the stage one");
    const ValidationPruningResult p = prune_by_validation(model, *run.evaluations.front().second, *settings.prune_budget);
    pruning = p.to_json(*settings.prune_budget);
    note(run, "pruning by validation: %lld of %lld groups, %lld weights zeroed; %.2f%% -> %.2f%% (%.1f s)",
         static_cast<long long>(p.groups_zeroed), static_cast<long long>(p.groups),
         static_cast<long long>(p.weights_zeroed), 100 * p.accuracy_before, 100 * p.accuracy_after, p.seconds);
  }
  nlohmann::json dead_units;
  if (settings.remove_dead_units) {
    auto* sequential = dynamic_cast<Sequential*>(&model);
    SWS_CHECK(sequential, "--remove-dead-units needs a Sequential model (it follows the layers in order)");
    const DeadUnitsResult d = remove_dead_units(*sequential);
    dead_units = d.to_json();
    note(run, "dead units: %lld without readers, %lld without inputs; %lld weights zeroed; %lld constant units kept",
         static_cast<long long>(d.dead_out), static_cast<long long>(d.dead_in), static_cast<long long>(d.weights_zeroed),
         static_cast<long long>(d.constant_kept));
  }
  nlohmann::json merging;
  if (settings.merge_budget) {
    SWS_CHECK(!run.evaluations.empty(), "--merge-budget decides on a validation set: give the stage one");
    const ValidationMergingResult m = merge_by_validation(model, *run.evaluations.front().second, *settings.merge_budget);
    merging = m.to_json(*settings.merge_budget);
    note(run, "merging by validation: %lld -> %lld distinct values; %.2f%% -> %.2f%% (%lld evaluations, %.1f s)",
         static_cast<long long>(m.values_before), static_cast<long long>(m.values_after), 100 * m.accuracy_before,
         100 * m.accuracy_after, static_cast<long long>(m.evaluations), m.seconds);
  }
  const auto snapped = accuracies(model, run);
  auto after = snapped;
  if (settings.finetune.epochs > 0) {
    finetune_codebook(model, train, settings.finetune, run.observer);
    after = accuracies(model, run);
    if (!after.empty()) {
      std::string name = after[0].first;  // "test_accuracy" -> "test accuracy"
      std::replace(name.begin(), name.end(), '_', ' ');
      note(run, "codebook fine-tuning: %s %.2f%% -> %.2f%%", name.c_str(), 100 * snapped[0].second, 100 * after[0].second);
    }
  }
  if (!after.empty()) r.accuracy_before = before[0].second, r.accuracy_after = after[0].second;
  const NamedTensors params = model.named_parameters();
  r.account = paper_compression(params);
  int64_t nonzeros = 0, total = 0;
  std::set<float> distinct;
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& [name, t] : params)
    for (float v : t.to_float_vector()) {
      ++total;
      if (v != 0.0f) ++nonzeros, distinct.insert(v);
    }
  for (const TensorAccount& a : r.account.tensors)
    tensors.push_back({{"name", a.name}, {"parameters", a.parameters}, {"nonzeros", a.nonzeros},
                       {"distinct_values", a.distinct}, {"fillers", a.fillers}, {"index_bits", a.index_bits},
                       {"value_bits", a.value_bits}, {"codebook_bits", a.codebook_bits}, {"gap_bits", a.gap_bits}});
  if (nonzeros == 0 && run.observer.on_note)
    run.observer.on_note("post-processing assigned every weight to the zero component: the mixture collapsed onto "
                         "zero (retrain longer, or with a smaller --tau or --pi0)");
  r.nonzero_fraction = total ? static_cast<double>(nonzeros) / total : 0.0;
  r.distinct_values = static_cast<int64_t>(distinct.size());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json components = nlohmann::json::array();
  for (size_t j = 0; j < merged.size(); ++j)
    components.push_back({{"mean", merged.mu[j]}, {"precision", merged.lambda[j]}, {"pi", merged.pi[j]}});
  r.metrics = {{"stage", "quantized"},
               {"codebook_finetune_epochs", settings.finetune.epochs},
               {"nonzero_fraction", r.nonzero_fraction},
               {"nonzeros", nonzeros},
               {"parameters", total},
               {"distinct_values", r.distinct_values},
               {"components_after_merge", merged.size()},
               {"components_merged", r.components_merged},
               {"components", components},
               {"settings", to_json(settings)},
               {"tensors", tensors},
               {"seconds", r.seconds}};
  if (!pruning.is_null()) r.metrics["validation_pruning"] = pruning;
  if (!merging.is_null()) r.metrics["validation_merging"] = merging;
  if (!dead_units.is_null()) r.metrics["dead_units"] = dead_units;
  // "test_accuracy" after everything, "_before" quantisation, "_snapped" before any fine-tuning.
  for (size_t i = 0; i < after.size(); ++i) {
    r.metrics[after[i].first] = after[i].second;
    r.metrics[after[i].first + "_before"] = before[i].second;
    r.metrics[after[i].first + "_snapped"] = snapped[i].second;
  }
  return r;
}

}  // namespace sws
