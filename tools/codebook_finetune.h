// An optional last step of post-processing: fine-tune the shared values with every weight's
// assignment fixed (the centroid fine-tuning of Han et al. 2016). Each non-zero weight stays tied
// to its codebook entry and zeros stay exactly zero, so the sparsity, the number of distinct
// values and the compressed size do not change; only the K values move, by Adam on the summed
// cross-entropy gradient of their weights: dL/dc_k = sum over i with index k of dL/dw_i.
#pragma once
#include <cstdint>

#include "nn/dataset.h"
#include "nn/sequential.h"

namespace sws {

struct CodebookFinetuneConfig {
  int64_t epochs = -1;  // 0: off; < 0: the model's preset (apply_postprocess_preset)
  int64_t batch = 256;
  double lr = 1e-4;
  uint64_t seed = 1;
};

// Fine-tunes the quantised `model`'s shared values on `train` in place.
void finetune_codebook(Sequential& model, const Dataset& train, const CodebookFinetuneConfig& config);

}  // namespace sws
