#include "compress/adaptive_rule.h"

#include <algorithm>

namespace sws {

nlohmann::json initial_rule_state(const RetrainSettings& s) {
  return {{"tau_scale", 1.0}, {"sigma_cap", 0.0}, {"pi0", s.prior.pi_zero}};
}

std::string adaptive_rule_step(const RetrainSettings& s, int64_t epoch, double accuracy, double snapped,
                               double widest_sigma, nlohmann::json& state) {
  if (epoch == s.epochs) {
    state["accuracy_after_minimum"] = accuracy, state["best_snapped"] = snapped, state["epochs_without_gain"] = 0;
  } else if (snapped > state.at("best_snapped").get<double>()) {
    state["best_snapped"] = snapped, state["epochs_without_gain"] = 0;
  } else {
    state["epochs_without_gain"] = state.at("epochs_without_gain").get<int64_t>() + 1;
  }
  if (accuracy - snapped <= s.gap_tolerance) return "gap closed";
  // Costly: the unquantised accuracy has fallen too far and the snapped one, what will be
  // shipped, has stopped improving on its best.
  if (accuracy < state.at("accuracy_after_minimum").get<double>() - s.max_accuracy_loss &&
      state.at("epochs_without_gain").get<int64_t>() >= s.snapped_patience)
    return "accuracy falling";
  if (epoch >= epoch_cap(s)) return "epoch cap";
  state["tau_scale"] = state.at("tau_scale").get<double>() * s.tau_growth;
  if (s.sigma_anneal < 1) {
    const double cap = state.at("sigma_cap").get<double>();
    state["sigma_cap"] = s.sigma_anneal * (cap > 0 ? std::min(cap, widest_sigma) : widest_sigma);
  }
  const double pi0 = state.at("pi0").get<double>();
  if (!s.prior.learn_pi_zero && pi0 > s.pi0_floor) state["pi0"] = std::max(s.pi0_floor, 1.0 - (1.0 - pi0) * s.pi0_relax);
  return "";
}

}  // namespace sws
