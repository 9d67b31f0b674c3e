// The Gaussian-mixture prior as the charts see it: plain numbers per component, no tensors.
#pragma once
#include <cmath>
#include <vector>

#include "core/error.h"

namespace sws::plot {

// One component of the prior: N(mean, sigma^2) with mixing proportion pi. By convention the
// component at index 0 of a list is the zero component (mean 0) and is drawn in its own colour.
struct MixtureComponent {
  double mean = 0, sigma = 0, pi = 0;
};

// Components from the prior's learned values as stored in metrics.json / prior.safetensors:
// means mu_j, precisions lambda_j (sigma = 1 / sqrt(lambda)) and mixing proportions pi_j, all of
// length J with the zero component first.
inline std::vector<MixtureComponent> mixture_from_prior(const std::vector<double>& means,
                                                        const std::vector<double>& precisions,
                                                        const std::vector<double>& proportions) {
  SWS_CHECK(means.size() == precisions.size() && means.size() == proportions.size(),
            "prior has " + std::to_string(means.size()) + " means, " + std::to_string(precisions.size()) +
                " precisions and " + std::to_string(proportions.size()) +
                " mixing proportions: they must match");
  std::vector<MixtureComponent> out;
  for (size_t j = 0; j < means.size(); ++j) {
    SWS_CHECK(precisions[j] > 0, "prior component " + std::to_string(j) + " has precision " +
                                     std::to_string(precisions[j]) + ": it must be > 0");
    out.push_back({means[j], 1.0 / std::sqrt(precisions[j]), proportions[j]});
  }
  return out;
}

// The mixture's probability density at x: sum_j pi_j N(x | mean_j, sigma_j^2).
inline double mixture_density(const std::vector<MixtureComponent>& mixture, double x) {
  constexpr double inv_sqrt_2pi = 0.3989422804014327;
  double p = 0;
  for (const MixtureComponent& c : mixture) {
    if (!(c.sigma > 0)) continue;
    double z = (x - c.mean) / c.sigma;
    p += c.pi * inv_sqrt_2pi / c.sigma * std::exp(-0.5 * z * z);
  }
  return p;
}

}  // namespace sws::plot
