// Stage 1 of the pipeline: ordinary training of any module with cross-entropy and Adam.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "compress/stage_run.h"

namespace sws {

// Every setting of pretraining. The defaults are the presets of the paper's LeNets
// (compress/presets.h); `sws run` takes each from a flag.
struct PretrainSettings {
  int64_t epochs = 20;                // --pretrain-epochs (sws pretrain: --epochs)
  int64_t batch = 64;                 // --pretrain-batch (sws pretrain: --batch)
  double lr = 1e-3;                   // Adam's rate: --pretrain-lr (sws pretrain: --lr)
  std::string schedule = "cosine";    // "cosine" (to 0 over the run) or "constant"
  uint64_t seed = 1;                  // seeds the data order (the model's initialisation is the caller's)
};

// Throws sws::Error naming the first invalid setting.
void validate(const PretrainSettings& settings);

// The settings as stored in metrics and compared on resume.
nlohmann::json to_json(const PretrainSettings& settings);

// What a pretraining run produced.
struct PretrainResult {
  double accuracy = 0;     // the first evaluation's accuracy after the last epoch (0 without one)
  double seconds = 0;      // training time, time before a resume included
  nlohmann::json metrics;  // {"stage": "pretrained", accuracies, "epochs": [...], "settings", ...}
};

// Trains `model` in place on `train`: shuffled batches, mean cross-entropy, Adam at settings.lr
// (cosine-decayed per step when asked). The model must return logits [B, classes].
PretrainResult pretrain(Module& model, const PretrainSettings& settings, const Dataset& train, const StageRun& run);

}  // namespace sws
