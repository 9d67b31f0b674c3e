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
  SWS_CHECK(o.pi_zero_concentration >= 0, "--pi0-concentration must be >= 0, got " +
                                              std::to_string(o.pi_zero_concentration));
  SWS_CHECK(o.pi_zero_concentration_per_weight >= 0, "--pi0-concentration-per-weight must be >= 0, got " +
                                                         std::to_string(o.pi_zero_concentration_per_weight));
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
// The engine calls backward once and then release(), so the stored gradients are scaled in place
// and handed over (one read and one write per weight, no new buffer).
struct MixturePriorNode : Node {
  std::vector<Tensor> grads;  // one per weight tensor, then mu, gamma, rho
  std::vector<Tensor> backward(const Tensor& g) override {
    const double scale = g.item();
    if (scale != 1.0)
      for (Tensor& t : grads) backend_for(t.device()).affine(t, scale, 0.0, t);
    return std::move(grads);
  }
  void release() override { grads.clear(); }
  const char* name() const override { return "mixture_prior"; }
};

double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }
// log sigmoid(x) and log(1 - sigmoid(x)) = log sigmoid(-x), without overflow.
double log_sigmoid(double x) { return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x)); }

// -(a - 1) log pi_0 - (b - 1) log(1 - pi_0) with pi_0 = sigmoid(eta), and its derivative
// -(a - 1)(1 - pi_0) + (b - 1) pi_0, as one node.
struct BetaHyperPriorNode : Node {
  double derivative = 0;
  std::vector<Tensor> backward(const Tensor& g) override {
    return {Tensor::full({1}, g.item() * derivative, g.dtype(), g.device())};
  }
  const char* name() const override { return "beta_hyper_prior"; }
};

Tensor beta_hyper_prior(const Tensor& eta, double a, double b) {
  const double x = eta.item(), pi0 = sigmoid(x);
  const double value = -(a - 1) * log_sigmoid(x) - (b - 1) * log_sigmoid(-x);
  Tensor out = Tensor::full({}, value, eta.dtype(), eta.device());
  if (any_requires_grad({&eta})) {
    auto node = std::make_shared<BetaHyperPriorNode>();
    node->derivative = -(a - 1) * (1 - pi0) + (b - 1) * pi0;
    attach(out, node, {&eta});
  }
  return out;
}

}  // namespace

Tensor mixture_negative_log_likelihood(const std::vector<Tensor>& weights, const Tensor& mu, const Tensor& gamma,
                                       const Tensor& rho, double pi_zero) {
  SWS_CHECK(pi_zero > 0 && pi_zero < 1, "mixture prior: pi_0 must lie in (0, 1)");
  const Tensor eta = Tensor::full({1}, std::log(pi_zero) - std::log1p(-pi_zero), gamma.dtype(), gamma.device());
  return mixture_negative_log_likelihood(weights, mu, gamma, rho, eta);
}

Tensor mixture_negative_log_likelihood(const std::vector<Tensor>& weights, const Tensor& mu, const Tensor& gamma,
                                       const Tensor& rho, const Tensor& eta, Share part) {
  const int64_t J = gamma.numel();
  SWS_CHECK(J >= 2 && mu.numel() == J - 1 && rho.numel() == J - 1 && eta.numel() == 1,
            "mixture prior: mu and rho need J - 1 entries, gamma J and eta 1, got " + describe(mu) + ", " +
                describe(gamma) + ", " + describe(rho) + ", " + describe(eta));
  const double eta_h = eta.item(), pi_zero = sigmoid(eta_h);
  SWS_CHECK(std::isfinite(eta_h), "mixture prior: the logit of pi_0 is not finite");
  const Device device = gamma.device();
  // The mixture as F64 [3, J]: means, log pi, log-precisions.
  const std::vector<double> mu_h = mu.to_double_vector(), gamma_h = gamma.to_double_vector();
  const std::vector<double> s = softmax(rho.to_double_vector());
  std::vector<double> mixture(3 * J);
  mixture[0] = 0.0;
  mixture[J] = log_sigmoid(eta_h);
  for (int64_t j = 1; j < J; ++j) {
    mixture[j] = mu_h[j - 1];
    mixture[J + j] = log_sigmoid(-eta_h) + std::log(s[j - 1]);
  }
  for (int64_t j = 0; j < J; ++j) mixture[2 * J + j] = gamma_h[j];
  const Tensor mixture_t = Tensor::from_vector(mixture, {3, J}, device);

  Backend& be = backend_for(device);
  Tensor stats = Tensor::zeros({3 * J + 1}, DType::F64, device);
  auto node = std::make_shared<MixturePriorNode>();
  int64_t n = 0, offset = 0;  // weights counted; the flat index of the tensor's first
  const int64_t part_end = part.count < 0 ? INT64_MAX : part.first + part.count;
  for (const Tensor& w_in : weights) {
    SWS_CHECK(w_in.dtype() == gamma.dtype() && w_in.device() == device,
              "mixture prior: weight " + describe(w_in) + " differs from the prior's " + describe(gamma));
    Tensor w = w_in.contiguous();
    const int64_t m = w.numel(), lo = std::max(part.first, offset), hi = std::min(part_end, offset + m);
    offset += m;
    if (lo == offset - m && hi == offset) {  // the whole tensor
      Tensor gw = Tensor::empty_like(w);
      be.mixture_prior(w, mixture_t, gw, stats);
      node->grads.push_back(gw);
      n += m;
      continue;
    }
    Tensor gw = Tensor::zeros(w.shape(), w.dtype(), device);
    if (hi > lo) {
      Tensor gw_part = gw.view({m}).rows(lo - (offset - m), hi - lo);
      be.mixture_prior(w.view({m}).rows(lo - (offset - m), hi - lo), mixture_t, gw_part, stats);
      n += hi - lo;
    }
    node->grads.push_back(gw);
  }
  const std::vector<double> st = stats.to_double_vector();
  std::vector<double> dmu(J - 1), dgamma(J), drho(J - 1);
  for (int64_t j = 1; j < J; ++j) dmu[j - 1] = -st[J + j];
  for (int64_t j = 0; j < J; ++j) dgamma[j] = -st[2 * J + j];
  // sum over i of (1 - r_i0) = n - R_0.
  for (int64_t m = 1; m < J; ++m) drho[m - 1] = -(st[m] - s[m - 1] * (static_cast<double>(n) - st[0]));
  const double deta = -(st[0] - static_cast<double>(n) * pi_zero);
  Tensor out = Tensor::full({}, st[3 * J], gamma.dtype(), device);
  if (any_requires_grad({&mu, &gamma, &rho, &eta}) || std::any_of(weights.begin(), weights.end(), [](const Tensor& w) {
        return grad_enabled() && (w.requires_grad() || w.grad_fn());
      })) {
    node->grads.push_back(Tensor::from_vector(dmu, mu.shape(), device).to(mu.dtype()));
    node->grads.push_back(Tensor::from_vector(dgamma, gamma.shape(), device).to(gamma.dtype()));
    node->grads.push_back(Tensor::from_vector(drho, rho.shape(), device).to(rho.dtype()));
    node->grads.push_back(Tensor::full(eta.shape(), deta, eta.dtype(), device));
    std::vector<const Tensor*> inputs;
    for (const Tensor& w : weights) inputs.push_back(&w);
    inputs.push_back(&mu);
    inputs.push_back(&gamma);
    inputs.push_back(&rho);
    inputs.push_back(&eta);
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
  eta = Tensor::full({1}, std::log(options.pi_zero) - std::log1p(-options.pi_zero), dtype, device);
  mu.set_requires_grad(true);
  gamma.set_requires_grad(true);
  rho.set_requires_grad(true);
  eta.set_requires_grad(options.learn_pi_zero);
  int64_t n = 0;
  for (const Tensor& w : weights) n += w.numel();
  kappa_ = options.pi_zero_concentration_per_weight > 0 ? options.pi_zero_concentration_per_weight * static_cast<double>(n)
                                                        : options.pi_zero_concentration;
  std::vector<double> one_minus_alpha(J, 1.0 - options.alpha), beta(J, options.beta);
  one_minus_alpha[0] = 1.0 - options.alpha_zero;
  beta[0] = options.beta_zero;
  one_minus_alpha_ = Tensor::from_vector(one_minus_alpha, {J}, device).to(dtype);
  beta_ = Tensor::from_vector(beta, {J}, device).to(dtype);
}

void GaussianMixturePrior::set_pi_zero(double pi_zero) {
  SWS_CHECK(!options_.learn_pi_zero, "mixture prior: a learned pi_0 is not set from outside");
  SWS_CHECK(pi_zero > 0 && pi_zero < 1, "mixture prior: pi_0 must lie in (0, 1), got " + std::to_string(pi_zero));
  options_.pi_zero = pi_zero;
  eta.fill_(std::log(pi_zero) - std::log1p(-pi_zero));
}

Tensor GaussianMixturePrior::complexity(const std::vector<Tensor>& weights, int rank, int ranks) const {
  Share part{0, -1};  // all weights
  if (ranks > 1) {
    int64_t total = 0;
    for (const Tensor& w : weights) total += w.numel();
    part = share_of(total, rank, ranks);
  }
  SWS_CHECK(rank >= 0 && rank < ranks, "mixture prior: rank " + std::to_string(rank) + " of " + std::to_string(ranks));
  const Tensor nll = mixture_negative_log_likelihood(weights, mu, gamma, rho, eta, part);
  if (rank > 0) return nll;  // rank 0 adds the hyper-priors
  // Gamma hyper-priors: -log Gamma(lambda | alpha, beta) = (1 - alpha) gamma + beta lambda + const.
  const Tensor hyper = sum(add(mul(one_minus_alpha_, gamma), mul(beta_, exp(gamma))));
  if (!options_.learn_pi_zero) return add(nll, hyper);
  const double kappa = kappa_;
  const Tensor beta_term =
      beta_hyper_prior(eta, 1 + kappa * options_.pi_zero, 1 + kappa * (1 - options_.pi_zero));
  return add(add(nll, hyper), beta_term);
}

NamedTensors GaussianMixturePrior::named_parameters() const {
  NamedTensors named{{"prior.means", mu}, {"prior.log_precisions", gamma}, {"prior.mixing_logits", rho}};
  if (options_.learn_pi_zero) named.push_back({"prior.zero_logit", eta});
  return named;
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
  const double pi_zero = sigmoid(eta.item());
  std::vector<double> pi{pi_zero};
  for (double s : softmax(rho.to_double_vector())) pi.push_back((1.0 - pi_zero) * s);
  return pi;
}

}  // namespace sws
