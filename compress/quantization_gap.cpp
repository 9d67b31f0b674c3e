#include "compress/quantization_gap.h"

namespace sws {

Mixture learned_mixture(const GaussianMixturePrior& prior) {
  return {prior.means(), prior.precisions(), prior.mixing_proportions()};
}

double snapped_accuracy(Module& model, const GaussianMixturePrior& prior, const SnapSettings& settings,
                        const Dataset& data, Communicator* comm) {
  const std::vector<Tensor> params = model.parameters();
  std::vector<Tensor> saved;
  for (const Tensor& p : params) {
    saved.push_back(Tensor::empty(p.shape(), p.dtype(), p.device()));
    saved.back().copy_(p);
  }
  assign_to_means(params, merged_mixture(learned_mixture(prior), settings), settings.rule);
  const double accuracy = evaluate_accuracy(model, data, comm);
  for (size_t i = 0; i < params.size(); ++i) Tensor(params[i]).copy_(saved[i]);
  return accuracy;
}

}  // namespace sws
