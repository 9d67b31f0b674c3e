#include "tools/postprocess.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>

#include "core/error.h"

namespace sws {

void apply_postprocess_preset(const std::string& model, PostprocessConfig& c) {
  if (c.finetune.epochs < 0) c.finetune.epochs = model == "lenet5" ? 1 : 0;
  SWS_CHECK(c.finetune.lr > 0 && std::isfinite(c.finetune.lr), "--finetune-lr must be positive");
  SWS_CHECK(c.merge_kl >= 0, "--merge-kl must be >= 0");
}

PostprocessResult postprocess(Sequential& model, const GaussianMixturePrior& prior, const Dataset& train,
                              const Dataset& test, const PostprocessConfig& config) {
  const auto start = std::chrono::steady_clock::now();
  PostprocessResult r;
  r.accuracy_before = evaluate_accuracy(model, test);
  const Mixture learned{prior.means(), prior.precisions(), prior.mixing_proportions()};
  const Mixture merged = merge_components(learned, config.merge_kl);
  assign_to_means(model.parameters(), merged, config.rule);
  r.accuracy_after = evaluate_accuracy(model, test);
  const double accuracy_snapped = r.accuracy_after;
  if (config.finetune.epochs > 0) {
    finetune_codebook(model, train, config.finetune);
    r.accuracy_after = evaluate_accuracy(model, test);
    std::printf("codebook fine-tuning: test accuracy %.2f%% -> %.2f%%\n", 100 * accuracy_snapped, 100 * r.accuracy_after);
  }
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
  SWS_CHECK(nonzeros > 0, "post-processing assigned every weight to the zero component: the mixture collapsed "
                          "onto zero (accuracy " + std::to_string(100 * r.accuracy_after) + "%). Retrain longer "
                          "(--retrain-epochs), or with a smaller --tau or --pi0.");
  r.nonzero_fraction = total ? static_cast<double>(nonzeros) / total : 0.0;
  r.distinct_values = static_cast<int64_t>(distinct.size());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json components = nlohmann::json::array();
  for (size_t j = 0; j < merged.size(); ++j)
    components.push_back({{"mean", merged.mu[j]}, {"precision", merged.lambda[j]}, {"pi", merged.pi[j]}});
  r.metrics = {{"stage", "quantized"},
               {"test_accuracy", r.accuracy_after},
               {"test_accuracy_before", r.accuracy_before},
               {"test_accuracy_snapped", accuracy_snapped},  // before any codebook fine-tuning
               {"codebook_finetune_epochs", config.finetune.epochs},
               {"nonzero_fraction", r.nonzero_fraction},
               {"nonzeros", nonzeros},
               {"parameters", total},
               {"distinct_values", r.distinct_values},
               {"components_after_merge", merged.size()},
               {"components", components},
               {"merge_kl", config.merge_kl},
               {"assignment", config.rule == Assignment::MaximumAPosteriori ? "map" : "ml"},
               {"tensors", tensors},
               {"seconds", r.seconds}};
  return r;
}

std::string account_table(const PaperAccount& account) {
  std::ostringstream os;
  os << "| tensor | parameters | non-zeros | distinct | gap bits | fillers | index bits | value bits | codebook bits | rate |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n";
  char line[256];
  for (const TensorAccount& a : account.tensors) {
    std::snprintf(line, sizeof line, "| %s | %lld | %lld | %lld | %d | %lld | %lld | %lld | %lld | %.1fx |\n",
                  a.name.c_str(), (long long)a.parameters, (long long)a.nonzeros, (long long)a.distinct, a.gap_bits,
                  (long long)a.fillers, (long long)a.index_bits, (long long)a.value_bits, (long long)a.codebook_bits,
                  a.total_bits() ? 32.0 * a.parameters / a.total_bits() : 0.0);
    os << line;
  }
  std::snprintf(line, sizeof line, "| **total** | %lld | | | | | | | %lld bits | **%.1fx** |\n",
                (long long)account.parameters, (long long)account.total_bits, account.rate());
  os << line;
  return os.str();
}

}  // namespace sws
