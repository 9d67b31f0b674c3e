#include "compress/validation_merging.h"

#include <chrono>
#include <iterator>
#include <map>
#include <utility>
#include <vector>

#include "core/error.h"

namespace sws {

nlohmann::json ValidationMergingResult::to_json(double budget) const {
  return {{"budget", budget},
          {"values_before", values_before},
          {"values_after", values_after},
          {"evaluations", evaluations},
          {"validation_accuracy_before", accuracy_before},
          {"validation_accuracy_after", accuracy_after},
          {"seconds", seconds}};
}

namespace {

using Where = std::vector<std::pair<size_t, int64_t>>;  // (parameter, element) of each weight holding a value

void write(std::vector<Tensor>& params, const Where& where, float value) {
  for (const auto& [t, i] : where) params[t].data<float>()[i] = value;
}

}  // namespace

ValidationMergingResult merge_by_validation(Module& model, const Dataset& validation, double budget) {
  SWS_CHECK(budget >= 0 && budget <= 1, "--merge-budget must lie between 0 and 1 (a fraction: 0.002 is 0.2 points)");
  SWS_CHECK(validation.size() > 0, "merging by validation needs a validation set");
  const auto start = std::chrono::steady_clock::now();
  std::vector<Tensor> params = model.parameters();
  std::map<float, Where> values;  // every non-zero value, in increasing order, and where it sits
  for (size_t t = 0; t < params.size(); ++t) {
    SWS_CHECK(params[t].dtype() == DType::F32 && params[t].device().is_cpu() && params[t].is_contiguous(),
              "merging by validation needs contiguous F32 parameters on the CPU");
    const float* w = params[t].data<float>();
    for (int64_t i = 0; i < params[t].numel(); ++i)
      if (w[i] != 0.0f) values[w[i]].emplace_back(t, i);
  }
  ValidationMergingResult r;
  r.values_before = static_cast<int64_t>(values.size());
  r.accuracy_before = r.accuracy_after = evaluate_accuracy(model, validation);
  r.evaluations = 1;
  // Accuracies are counts over the validation set: a float slack keeps a merge that lands exactly
  // on the bound (0.987 - 0.002 is 0.98499999999999999).
  const double floor = r.accuracy_before - budget - 1e-9;
  for (;;) {
    auto best = values.end();
    double best_accuracy = -1, best_cost = 0;
    float best_mean = 0;
    for (auto a = values.begin(); a != values.end() && std::next(a) != values.end(); ++a) {
      const auto b = std::next(a);
      if ((a->first < 0) != (b->first < 0)) continue;  // never across zero
      const double na = static_cast<double>(a->second.size()), nb = static_cast<double>(b->second.size());
      const float mean = static_cast<float>((na * a->first + nb * b->first) / (na + nb));
      const double gap = static_cast<double>(a->first) - b->first, cost = na * nb / (na + nb) * gap * gap;
      write(params, a->second, mean), write(params, b->second, mean);
      const double accuracy = evaluate_accuracy(model, validation);
      ++r.evaluations;
      write(params, a->second, a->first), write(params, b->second, b->first);
      if (accuracy > best_accuracy || (accuracy == best_accuracy && cost < best_cost))
        best = a, best_accuracy = accuracy, best_cost = cost, best_mean = mean;
    }
    if (best == values.end() || best_accuracy < floor) break;
    const auto b = std::next(best);
    Where merged = std::move(best->second);
    merged.insert(merged.end(), b->second.begin(), b->second.end());
    values.erase(best, std::next(b));
    write(params, merged, best_mean);
    values.emplace(best_mean, std::move(merged));  // between the two (or on one of them): a key of its own
    r.accuracy_after = best_accuracy;
  }
  r.values_after = static_cast<int64_t>(values.size());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace sws
