// The adaptive retraining rule (issue 15; RetrainSettings in compress/retrain.h): after the
// planned epochs, retraining goes on while the quantisation gap is open, tau rising, the
// variances annealed and pi_0 yielding, and stops once the gap has closed, the model itself pays
// for closing it, or at the epoch cap. A pure function of the accuracies, so that it is tested
// on scripted sequences; its state lives in the stage's history (and so in the checkpoint).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "compress/retrain.h"

namespace sws {

// The rule's state as it starts: tau_scale 1, no sigma cap (0), pi_0 as configured.
nlohmann::json initial_rule_state(const RetrainSettings& settings);

// After epoch `epoch` (>= settings.epochs) with the unquantised and the snapped validation
// accuracy, and the widest component's sigma now: updates `state` (accuracy_after_minimum,
// best_snapped, epochs_without_gain; to extend also tau_scale, sigma_cap and pi0) and returns
// why retraining stops ("gap closed", "accuracy falling", "epoch cap"), or "" to go on. The
// caller applies the new sigma cap and pi_0.
std::string adaptive_rule_step(const RetrainSettings& settings, int64_t epoch, double accuracy, double snapped,
                               double widest_sigma, nlohmann::json& state);

}  // namespace sws
