// The quantisation gap while retraining: the accuracy the model would have if post-processing
// ran now (every weight snapped to the mean of its most responsible merged component), beside
// the accuracy it has. The unquantised accuracy alone says nothing about whether the weights
// have gathered on the components; this says it every epoch, at the cost of one snap and one
// evaluation.
#pragma once
#include "compress/gaussian_mixture_prior.h"
#include "compress/quantize.h"
#include "nn/dataset.h"

namespace sws {

// The learned prior as a host mixture (component 0 the zero component).
Mixture learned_mixture(const GaussianMixturePrior& prior);

// Accuracy on `data` of `model` with every parameter snapped to merged_mixture(prior, settings)
// by settings.rule; the parameters are restored bit-exactly afterwards. With comm the evaluation
// is sharded over its ranks (every rank snaps its own copy alike).
double snapped_accuracy(Module& model, const GaussianMixturePrior& prior, const SnapSettings& settings,
                        const Dataset& data, Communicator* comm = nullptr);

}  // namespace sws
