// The learned prior on disk: its tensors and options as one safetensors file ("sws.prior"
// metadata), so that post-processing can run later from a retrained checkpoint and its prior.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "compress/gaussian_mixture_prior.h"

namespace sws {

// Writes the prior's learned tensors (F32, host) and options, atomically.
void save_prior(const GaussianMixturePrior& prior, const std::string& path);

// Reads a file written by save_prior into a prior over `weights` (their dtype and device);
// throws sws::Error naming the path for a file that is not a prior, or a missing or mis-shaped
// tensor.
std::shared_ptr<GaussianMixturePrior> load_prior(const std::string& path, const std::vector<Tensor>& weights);

}  // namespace sws
