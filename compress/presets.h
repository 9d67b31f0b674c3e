// Every setting of the three stages in one place, and the presets of the paper's three nets:
// the values `sws run --model NAME` starts from before any flag (README, "Presets").
#pragma once
#include <string>
#include <vector>

#include "compress/postprocess.h"
#include "compress/pretrain.h"
#include "compress/retrain.h"

namespace sws {

// The settings of all three stages.
struct PipelineSettings {
  // The last part of the training images held out as the validation split, on which every
  // decision is made (the retraining rule, the failure check); N in tau / N counts the rest.
  double validation_fraction = 0.1;  // --validation-fraction
  PretrainSettings pretrain;         // stage 1
  RetrainSettings retrain;           // stage 2
  PostprocessSettings postprocess;   // stage 3
  // Post-processing may cost at most this much validation accuracy (0.02 = 2 points) against
  // the retrained model; more is a QuantizationFailure (compress/pipeline.h). --max-drop
  double max_accuracy_drop = 0.02;
};

// The settings a model starts from: tuned presets for "lenet300", "lenet5" and "tutorial"; for
// any other name the library's defaults (the paper's settings with 20 epochs of pretraining and
// 30 of retraining at tau = 0.005, J = 17) except pi_0 = 0.99 (measured: compress/presets.cpp).
PipelineSettings preset_settings(const std::string& model);

// The names preset_settings has presets for (any other gets the defaults).
const std::vector<std::string>& preset_names();

// Sets the data-order seed of every stage (the model's initialisation is its maker's).
void set_seed(PipelineSettings& settings, uint64_t seed);

// Throws sws::Error naming the first invalid setting of any stage.
void validate(const PipelineSettings& settings);

}  // namespace sws
