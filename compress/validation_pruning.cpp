#include "compress/validation_pruning.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"

namespace sws {

nlohmann::json ValidationPruningResult::to_json(double budget) const {
  return {{"budget", budget},
          {"groups", groups},
          {"groups_zeroed", groups_zeroed},
          {"weights_zeroed", weights_zeroed},
          {"validation_accuracy_before", accuracy_before},
          {"validation_accuracy_after", accuracy_after},
          {"seconds", seconds}};
}

namespace {

struct Group {
  size_t tensor;
  float value;
  std::vector<int64_t> indices;
};

}  // namespace

ValidationPruningResult prune_by_validation(Module& model, const Dataset& validation, double budget) {
  SWS_CHECK(budget >= 0 && budget <= 1, "--prune-budget must lie between 0 and 1 (a fraction: 0.002 is 0.2 points)");
  SWS_CHECK(validation.size() > 0, "pruning by validation needs a validation set");
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Tensor> params = model.parameters();
  std::vector<Group> groups;
  for (size_t t = 0; t < params.size(); ++t) {
    SWS_CHECK(params[t].dtype() == DType::F32 && params[t].device().is_cpu() && params[t].is_contiguous(),
              "pruning by validation needs contiguous F32 parameters on the CPU");
    std::map<float, size_t> of_value;  // value -> its group
    const float* w = params[t].data<float>();
    for (int64_t i = 0; i < params[t].numel(); ++i) {
      if (w[i] == 0.0f) continue;
      auto [it, added] = of_value.emplace(w[i], groups.size());
      if (added) groups.push_back({t, w[i], {}});
      groups[it->second].indices.push_back(i);
    }
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const Group& a, const Group& b) { return std::abs(a.value) < std::abs(b.value); });
  ValidationPruningResult r;
  r.groups = static_cast<int64_t>(groups.size());
  r.accuracy_before = r.accuracy_after = evaluate_accuracy(model, validation);
  for (const Group& g : groups) {
    Tensor p = params[g.tensor];
    float* w = p.data<float>();
    for (int64_t i : g.indices) w[i] = 0.0f;
    const double accuracy = evaluate_accuracy(model, validation);
    if (accuracy >= r.accuracy_before - budget) {
      r.accuracy_after = accuracy;
      ++r.groups_zeroed, r.weights_zeroed += static_cast<int64_t>(g.indices.size());
    } else {
      for (int64_t i : g.indices) w[i] = g.value;
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace sws
