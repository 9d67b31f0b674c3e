#include "compress/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "core/error.h"

namespace sws {

double gaussian_kl(double mu_a, double lambda_a, double mu_b, double lambda_b) {
  // log(sigma_b / sigma_a) + (sigma_a^2 + (mu_a - mu_b)^2) / (2 sigma_b^2) - 1/2
  const double d = mu_a - mu_b;
  return 0.5 * std::log(lambda_a / lambda_b) + 0.5 * lambda_b * (1.0 / lambda_a + d * d) - 0.5;
}

namespace {

// Merges component b into a (a < b): pi-weighted mean and variance (PAPER.md); a merge with the
// zero component (a = 0) keeps mean 0 and index 0.
void merge_pair(Mixture& m, size_t a, size_t b) {
  const double pi = m.pi[a] + m.pi[b];
  const double mu = a == 0 ? 0.0 : (m.pi[a] * m.mu[a] + m.pi[b] * m.mu[b]) / pi;
  const double var = (m.pi[a] / m.lambda[a] + m.pi[b] / m.lambda[b]) / pi;
  m.mu[a] = mu, m.lambda[a] = 1.0 / var, m.pi[a] = pi;
  m.mu.erase(m.mu.begin() + b), m.lambda.erase(m.lambda.begin() + b), m.pi.erase(m.pi.begin() + b);
}

// Merges the closest pair by `distance` (i < j) while that distance is below `threshold`.
template <typename Distance>
Mixture merge_closest_while(const Mixture& in, double threshold, Distance distance) {
  Mixture m = in;
  while (m.size() > 1) {
    double best = std::numeric_limits<double>::infinity();
    size_t a = 0, b = 0;
    for (size_t i = 0; i < m.size(); ++i)
      for (size_t j = i + 1; j < m.size(); ++j)
        if (const double d = distance(m, i, j); d < best) best = d, a = i, b = j;
    if (!(best < threshold)) break;
    merge_pair(m, a, b);
  }
  return m;
}

}  // namespace

Mixture merge_components(const Mixture& in, double threshold) {
  // The larger KL divergence of the two directions.
  return merge_closest_while(in, threshold, [](const Mixture& m, size_t i, size_t j) {
    return std::max(gaussian_kl(m.mu[i], m.lambda[i], m.mu[j], m.lambda[j]),
                    gaussian_kl(m.mu[j], m.lambda[j], m.mu[i], m.lambda[i]));
  });
}

Mixture merge_within_widths(const Mixture& in, double widths) {
  // The means' distance in units of the narrower component's sigma.
  return merge_closest_while(in, widths, [](const Mixture& m, size_t i, size_t j) {
    return std::abs(m.mu[i] - m.mu[j]) * std::sqrt(std::max(m.lambda[i], m.lambda[j]));
  });
}

void assign_to_means(const std::vector<Tensor>& weights, const Mixture& m, Assignment rule) {
  const size_t J = m.size();
  std::vector<double> c(J);
  for (size_t j = 0; j < J; ++j)
    c[j] = 0.5 * std::log(m.lambda[j]) + (rule == Assignment::MaximumAPosteriori ? std::log(m.pi[j]) : 0.0);
  for (const Tensor& target : weights) {
    SWS_CHECK(target.dtype() == DType::F32 && target.is_contiguous(),
              "assign_to_means works on contiguous F32 tensors, got " + describe(target));
    // A GPU tensor is assigned in a host copy that is then copied back.
    const Tensor w = target.device().is_cpu() ? target : target.to(Device::cpu());
    float* p = w.data<float>();
    for (int64_t i = 0; i < w.numel(); ++i) {
      size_t best = 0;
      double best_score = -std::numeric_limits<double>::infinity();
      for (size_t j = 0; j < J; ++j) {
        const double d = p[i] - m.mu[j];
        const double score = c[j] - 0.5 * m.lambda[j] * d * d;
        if (score > best_score) best_score = score, best = j;
      }
      p[i] = best == 0 ? 0.0f : static_cast<float>(m.mu[best]);
    }
    if (!w.same(target)) Tensor(target).copy_(w);  // a handle to the same data
  }
}

void validate(const SnapSettings& s) {
  SWS_CHECK(s.merge_kl >= 0 && std::isfinite(s.merge_kl), "--merge-kl must be >= 0");
  SWS_CHECK(s.merge_widths >= 0 && std::isfinite(s.merge_widths), "--merge-widths must be >= 0");
}

Mixture merged_mixture(const Mixture& learned, const SnapSettings& s) {
  return merge_within_widths(merge_components(learned, s.merge_kl), s.merge_widths);
}

std::vector<TensorStats> sparsity_stats(const NamedTensors& tensors) {
  std::vector<TensorStats> out;
  for (const auto& [name, t] : tensors) {
    TensorStats s;
    s.name = name;
    std::set<float> distinct;
    for (float v : t.to_float_vector()) {
      ++s.parameters;
      if (v != 0.0f) ++s.nonzeros, distinct.insert(v);
    }
    s.distinct_nonzero = static_cast<int64_t>(distinct.size());
    out.push_back(s);
  }
  return out;
}

}  // namespace sws
