// Stage 3 of soft weight-sharing (PAPER.md, "Post-processing"): merge near-identical mixture
// components, then snap every weight to the mean of its most responsible component; weights of
// the zero component become exactly 0.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"

namespace sws {

// A mixture on the host: component 0 is the zero component.
struct Mixture {
  std::vector<double> mu, lambda, pi;  // means, precisions, mixing proportions (equal lengths)
  size_t size() const { return mu.size(); }  // J, the number of components
};

// KL(N(mu_a, 1/lambda_a) || N(mu_b, 1/lambda_b)) in nats: log(sigma_b / sigma_a)
// + (sigma_a^2 + (mu_a - mu_b)^2) / (2 sigma_b^2) - 1/2.
double gaussian_kl(double mu_a, double lambda_a, double mu_b, double lambda_b);

// Repeatedly merges the pair of components whose larger KL divergence (of the two directions) is
// smallest while it is below `threshold` (PAPER.md, "Post-processing"; tutorial 1e-10): pi = pi_a
// + pi_b, mean and variance pi-weighted. A merge involving the zero component keeps mean 0 and
// index 0.
Mixture merge_components(const Mixture& m, double threshold);

// Repeatedly merges the pair of components whose means lie closest in units of the narrower
// one's standard deviation, |mu_a - mu_b| sqrt(max(lambda_a, lambda_b)), while that distance is
// below `widths` (1: each mean lies within one sigma of the other's): components a weight cannot
// tell apart become one, with the moments of merge_components. 0 merges nothing.
Mixture merge_within_widths(const Mixture& m, double widths);

// How assign_to_means picks a weight's component: with the mixing proportions (MAP, the paper's)
// or without them (maximum likelihood).
enum class Assignment { MaximumAPosteriori, MaximumLikelihood };

// Replaces every weight by the mean of argmax_j [log pi_j + log N(w | mu_j, 1/lambda_j)] (the
// pi term dropped for maximum likelihood; ties to the lower j); the zero component gives exactly
// 0. In place; throws sws::Error unless every tensor is contiguous F32 on the CPU.
void assign_to_means(const std::vector<Tensor>& weights, const Mixture& m, Assignment rule);

// How post-processing snaps the weights to the learned mixture: merge (by KL, then within
// widths), then assign. The same settings give the snapped accuracy measured while retraining.
struct SnapSettings {
  double merge_kl = 1e-10;    // merge_components' threshold in nats (the tutorial's): --merge-kl
  double merge_widths = 1.0;  // merge_within_widths' distance in sigmas (0: off): --merge-widths
  Assignment rule = Assignment::MaximumAPosteriori;  // --assign map | ml
};

// Throws sws::Error naming the first invalid setting.
void validate(const SnapSettings& settings);

// The learned mixture merged as `settings` say: merge_components, then merge_within_widths.
Mixture merged_mixture(const Mixture& learned, const SnapSettings& settings);

// Per tensor: how many entries, non-zeros and distinct non-zero values.
struct TensorStats {
  std::string name;  // the tensor's name
  int64_t parameters = 0, nonzeros = 0, distinct_nonzero = 0;  // -0.0 counts as zero
};
// The stats of each tensor, in order (any dtype or device: values are read as float on the host).
std::vector<TensorStats> sparsity_stats(const NamedTensors& tensors);

}  // namespace sws
