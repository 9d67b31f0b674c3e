// Every setting of the three stages in one place, and the presets of the paper's three nets:
// the values `sws run --model NAME` starts from before any flag (README, "Presets").
#pragma once
#include <string>

#include "compress/postprocess.h"
#include "compress/pretrain.h"
#include "compress/retrain.h"

namespace sws {

// The settings of all three stages.
struct PipelineSettings {
  PretrainSettings pretrain;        // stage 1
  RetrainSettings retrain;          // stage 2
  PostprocessSettings postprocess;  // stage 3
};

// The settings a model starts from: tuned presets for "lenet300", "lenet5" and "tutorial"; for
// any other name the library's defaults (the paper's LeNet-300-100 recipe: 20 epochs of
// pretraining, 30 of retraining at tau = 0.005, J = 17, pi_0 = 0.999).
PipelineSettings preset_settings(const std::string& model);

// Sets the data-order seed of every stage (the model's initialisation is its maker's).
void set_seed(PipelineSettings& settings, uint64_t seed);

// Throws sws::Error naming the first invalid setting of any stage.
void validate(const PipelineSettings& settings);

}  // namespace sws
