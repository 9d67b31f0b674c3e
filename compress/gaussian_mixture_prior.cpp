#include "compress/gaussian_mixture_prior.h"

#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "core/backend.h"
#include "core/error.h"

namespace sws {

void validate(const PriorOptions& o) {
  SWS_CHECK(o.components >= 2, "--components (J) must be at least 2, got " + std::to_string(o.components));
  SWS_CHECK(o.pi_zero > 0 && o.pi_zero < 1, "--pi0 must lie strictly between 0 and 1, got " + std::to_string(o.pi_zero));
  SWS_CHECK(o.init == "range" || o.init == "fixed", "prior init must be 'range' or 'fixed', got '" + o.init + "'");
  SWS_CHECK(o.init_range > 0 && o.init_sigma > 0, "prior init range and sigma must be positive");
  SWS_CHECK(o.alpha_zero > 0 && o.beta_zero > 0 && o.alpha > 0 && o.beta > 0,
            "Gamma hyper-prior parameters must be positive");
}

namespace {

// Softmax of a host vector (max subtracted).
std::vector<double> softmax(const std::vector<double>& x) {
  const double m = *std::max_element(x.begin(), x.end());
  std::vector<double> s(x.size());
  double total = 0;
  for (size_t i = 0; i < x.size(); ++i) total += s[i] = std::exp(x[i] - m);
  for (double& v : s) v /= total;
  return s;
}

// The fused op's node: every gradient was computed in the forward pass; backward scales them.
struct MixturePriorNode : Node {
  std::vector<Tensor> grads;  // one per weight tensor, then mu, gamma, rho
  std::vector<Tensor> backward(const Tensor& g) override {
    const double scale = g.item();
    std::vector<Tensor> out;
    for (const Tensor& t : grads) {
      Tensor scaled = Tensor::empty_like(t);
      backend_for(t.device()).affine(t, scale, 0.0, scaled);
      out.push_back(scaled);
    }
    return out;
  }
  void release() override { grads.clear(); }
  const char* name() const override { return "mixture_prior"; }
};

}  // namespace

Tensor mixture_negative_log_likelihood(const std::vector<Tensor>& weights, const Tensor& mu, const Tensor& gamma,
                                       const Tensor& rho, double pi_zero) {
  const int64_t J = gamma.numel();
  SWS_CHECK(J >= 2 && mu.numel() == J - 1 && rho.numel() == J - 1,
            "mixture prior: mu and rho need J - 1 entries and gamma J, got " + describe(mu) + ", " +
                describe(gamma) + ", " + describe(rho));
  SWS_CHECK(pi_zero > 0 && pi_zero < 1, "mixture prior: pi_0 must lie in (0, 1)");
  const Device device = gamma.device();
  // The mixture as F64 [3, J]: means, log pi, log-precisions.
  const std::vector<double> mu_h = mu.to_double_vector(), gamma_h = gamma.to_double_vector();
  const std::vector<double> s = softmax(rho.to_double_vector());
  std::vector<double> mixture(3 * J);
  mixture[0] = 0.0;
  mixture[J] = std::log(pi_zero);
  for (int64_t j = 1; j < J; ++j) {
    mixture[j] = mu_h[j - 1];
    mixture[J + j] = std::log1p(-pi_zero) + std::log(s[j - 1]);
  }
  for (int64_t j = 0; j < J; ++j) mixture[2 * J + j] = gamma_h[j];
  const Tensor mixture_t = Tensor::from_vector(mixture, {3, J}, device);

  Backend& be = backend_for(device);
  Tensor stats = Tensor::zeros({3 * J + 1}, DType::F64, device);
  auto node = std::make_shared<MixturePriorNode>();
  int64_t n = 0;
  for (const Tensor& w_in : weights) {
    SWS_CHECK(w_in.dtype() == gamma.dtype() && w_in.device() == device,
              "mixture prior: weight " + describe(w_in) + " differs from the prior's " + describe(gamma));
    Tensor w = w_in.contiguous();
    Tensor gw = Tensor::empty_like(w);
    be.mixture_prior(w, mixture_t, gw, stats);
    node->grads.push_back(gw);
    n += w.numel();
  }
  const std::vector<double> st = stats.to_double_vector();
  std::vector<double> dmu(J - 1), dgamma(J), drho(J - 1);
  for (int64_t j = 1; j < J; ++j) dmu[j - 1] = -st[J + j];
  for (int64_t j = 0; j < J; ++j) dgamma[j] = -st[2 * J + j];
  // sum over i of (1 - r_i0) = n - R_0.
  for (int64_t m = 1; m < J; ++m) drho[m - 1] = -(st[m] - s[m - 1] * (static_cast<double>(n) - st[0]));
  Tensor out = Tensor::full({}, st[3 * J], gamma.dtype(), device);
  if (any_requires_grad({&mu, &gamma, &rho}) || std::any_of(weights.begin(), weights.end(), [](const Tensor& w) {
        return grad_enabled() && (w.requires_grad() || w.grad_fn());
      })) {
    node->grads.push_back(Tensor::from_vector(dmu, mu.shape(), device).to(mu.dtype()));
    node->grads.push_back(Tensor::from_vector(dgamma, gamma.shape(), device).to(gamma.dtype()));
    node->grads.push_back(Tensor::from_vector(drho, rho.shape(), device).to(rho.dtype()));
    std::vector<const Tensor*> inputs;
    for (const Tensor& w : weights) inputs.push_back(&w);
    inputs.push_back(&mu);
    inputs.push_back(&gamma);
    inputs.push_back(&rho);
    attach(out, node, inputs);
  }
  return out;
}

GaussianMixturePrior::GaussianMixturePrior(const PriorOptions& options, const std::vector<Tensor>& weights)
    : options_(options) {
  validate(options);
  SWS_CHECK(!weights.empty(), "the prior needs at least one weight tensor");
  const int64_t J = options.components;
  const DType dtype = weights[0].dtype();
  const Device device = weights[0].device();
  double lo = -options.init_range, hi = options.init_range;
  if (options.init == "range") {
    lo = INFINITY, hi = -INFINITY;
    for (const Tensor& w : weights)
      for (double v : w.to_double_vector()) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  std::vector<double> means(J - 1);
  for (int64_t j = 0; j < J - 1; ++j) means[j] = J == 2 ? 0.5 * (lo + hi) : lo + (hi - lo) * j / (J - 2);
  mu = Tensor::from_vector(means, {J - 1}, device).to(dtype);
  gamma = Tensor::full({J}, -2.0 * std::log(options.init_sigma), dtype, device);
  rho = Tensor::zeros({J - 1}, dtype, device);
  mu.set_requires_grad(true);
  gamma.set_requires_grad(true);
  rho.set_requires_grad(true);
  std::vector<double> one_minus_alpha(J, 1.0 - options.alpha), beta(J, options.beta);
  one_minus_alpha[0] = 1.0 - options.alpha_zero;
  beta[0] = options.beta_zero;
  one_minus_alpha_ = Tensor::from_vector(one_minus_alpha, {J}, device).to(dtype);
  beta_ = Tensor::from_vector(beta, {J}, device).to(dtype);
}

Tensor GaussianMixturePrior::complexity(const std::vector<Tensor>& weights) const {
  const Tensor nll = mixture_negative_log_likelihood(weights, mu, gamma, rho, options_.pi_zero);
  // Gamma hyper-priors: -log Gamma(lambda | alpha, beta) = (1 - alpha) gamma + beta lambda + const.
  const Tensor hyper = sum(add(mul(one_minus_alpha_, gamma), mul(beta_, exp(gamma))));
  return add(nll, hyper);
}

NamedTensors GaussianMixturePrior::named_parameters() const {
  return {{"prior.means", mu}, {"prior.log_precisions", gamma}, {"prior.mixing_logits", rho}};
}

std::vector<double> GaussianMixturePrior::means() const {
  std::vector<double> m{0.0};
  for (double v : mu.to_double_vector()) m.push_back(v);
  return m;
}

std::vector<double> GaussianMixturePrior::precisions() const {
  std::vector<double> l;
  for (double g : gamma.to_double_vector()) l.push_back(std::exp(g));
  return l;
}

std::vector<double> GaussianMixturePrior::mixing_proportions() const {
  std::vector<double> pi{options_.pi_zero};
  for (double s : softmax(rho.to_double_vector())) pi.push_back((1.0 - options_.pi_zero) * s);
  return pi;
}

}  // namespace sws
