// An optional last step of post-processing: fine-tune the shared values with every weight's
// assignment fixed (the centroid fine-tuning of Han et al. 2016). Each non-zero weight stays tied
// to its codebook entry and zeros stay exactly zero, so the sparsity, the number of distinct
// values and the compressed size do not change; only the K values move, by Adam on the summed
// cross-entropy gradient of their weights: dL/dc_k = sum over i with index k of dL/dw_i.
#pragma once
#include <cstdint>

#include "nn/dataset.h"
#include "nn/module.h"
#include "optim/training_loop.h"

namespace sws {

// Every setting of the fine-tuning; `sws run` and `sws quantize` take each from a flag.
struct CodebookFinetuneSettings {
  int64_t epochs = 0;   // --finetune-epochs; 0: off (the paper's post-processing, nothing more)
  int64_t batch = 256;  // --finetune-batch
  double lr = 1e-4;     // Adam's rate on the shared values: --finetune-lr
  uint64_t seed = 1;    // seeds the data order
};

// Fine-tunes the quantised `model`'s shared values on `train` in place; reports every step to
// `observer.on_step` (stage "codebook fine-tuning").
void finetune_codebook(Module& model, const Dataset& train, const CodebookFinetuneSettings& settings,
                       const TrainingObserver& observer = {});

}  // namespace sws
