// The Gaussian-mixture prior of soft weight-sharing (Ullrich, Meeds & Welling 2017; PAPER.md,
// "The prior"): p(w) = prod_i sum_j pi_j N(w_i | mu_j, 1/lambda_j) over every weight and bias.
// Component 0 is the zero component: mu_0 = 0 and pi_0 fixed. Learned: the free means
// mu_1..mu_{J-1}, the log-precisions gamma_j = log lambda_j of all J components, and the mixing
// logits rho of the free components, pi_j = (1 - pi_0) softmax(rho)_j. Optionally pi_0 is learned
// too, as pi_0 = sigmoid(eta), under a Beta(a, b) hyper-prior (PAPER.md, "The prior").
#pragma once
#include <string>
#include <vector>

#include "core/communicator.h"
#include "core/tensor.h"

namespace sws {

// The prior's configuration (CLI flags and presets); validate() checks it.
struct PriorOptions {
  int64_t components = 17;     // J, the zero component included
  double pi_zero = 0.999;      // pi_0 (paper 0.999, tutorial 0.99)
  std::string init = "range";  // "range": means evenly over [min, max] of the weights (paper); or "fixed"
  double init_range = 0.6;     // "fixed": means evenly over [-init_range, init_range] (tutorial)
  double init_sigma = 0.25;    // every component's initial standard deviation: gamma = -2 log sigma
  // Gamma(lambda | alpha, beta) hyper-priors on the precisions (tutorial values).
  double alpha_zero = 5000, beta_zero = 2;  // zero component
  double alpha = 250, beta = 0.1;           // the others
  // Learned pi_0: eta = logit(pi_0) starts at logit(pi_zero) and is learned under
  // Beta(pi_0 | a, b), a = 1 + kappa pi_zero, b = 1 + kappa (1 - pi_zero): the hyper-prior's mode
  // is the initial pi_0 and kappa (pi_zero_concentration) says how firmly it holds it there.
  bool learn_pi_zero = false;          // learn eta (and so pi_0) instead of fixing pi_0 = pi_zero
  double pi_zero_concentration = 1000;  // kappa >= 0 (0: a flat Beta(1, 1), no hyper-prior)
  // > 0: kappa = this x the number of weights the prior covers instead, so that the hyper-prior
  // holds pi_0 as firmly on a large net as on a small one (1: as strong as the weights' own say).
  double pi_zero_concentration_per_weight = 0;
};

// Throws sws::Error naming the bad option (J < 2, pi_0 outside (0, 1), init not "range" or
// "fixed", init_range or sigma <= 0, a Gamma parameter <= 0, kappa < 0).
void validate(const PriorOptions& options);

// The learned mixture (mu, gamma, rho, eta) with its hyper-priors; the tensors are leaves that
// require grad, for an optimiser (named_parameters()) to update.
class GaussianMixturePrior {
 public:
  // Initialises from the pretrained weights (their range places the means for init "range");
  // the prior's tensors take weights[0]'s dtype and device. mu_1..mu_{J-1} evenly spaced (the
  // midpoint for J = 2), every gamma = -2 log init_sigma, rho = 0 (so pi_j = (1 - pi_0)/(J - 1)),
  // eta = logit(pi_zero). Throws sws::Error on invalid options or no weights.
  GaussianMixturePrior(const PriorOptions& options, const std::vector<Tensor>& weights);

  // The complexity term C = -sum_i log p(w_i) + sum_j [(1 - alpha_j) gamma_j + beta_j lambda_j]
  // (PAPER.md, "The loss"; the Gamma hyper-priors' negative log up to a constant), a 0-d tensor
  // differentiable w.r.t. the weights, mu, gamma and rho; with a learned pi_0 also w.r.t. eta,
  // plus the Beta term -(a - 1) log pi_0 - (b - 1) log(1 - pi_0). The training loss adds
  // (tau / N) C. Throws sws::Error if a weight's dtype or device differs from the prior's.
  // Data-parallel training splits it: rank `rank` of `ranks` computes the sum over its share
  // (share_of) of the weights taken in order as one flat list, and rank 0 adds the hyper-prior
  // terms, so that the pieces' values and gradients sum to the whole (zero gradients outside
  // the share) and the prior's cost divides by the rank count.
  Tensor complexity(const std::vector<Tensor>& weights, int rank = 0, int ranks = 1) const;

  // The learned tensors with their names, for optimiser groups and checkpoints:
  // "prior.means" (mu_1..mu_{J-1}), "prior.log_precisions" (gamma), "prior.mixing_logits" (rho),
  // and "prior.zero_logit" (eta, [1]) when pi_0 is learned.
  NamedTensors named_parameters() const;

  // Host copies of the full mixture, component 0 first: means (mu_0 = 0), precisions lambda,
  // mixing proportions pi.
  std::vector<double> means() const;
  std::vector<double> precisions() const;
  std::vector<double> mixing_proportions() const;
  const PriorOptions& options() const { return options_; }  // as given, but for set_pi_zero
  // kappa of the Beta hyper-prior on a learned pi_0 (per-weight options resolved).
  double pi_zero_concentration() const { return kappa_; }

  // Sets a fixed pi_0 (eta = logit(pi_0), and options().pi_zero, which prior files store): the
  // adaptive retraining rule relaxes it. sws::Error if pi_0 is learned or outside (0, 1).
  void set_pi_zero(double pi_zero);

  // [J-1] free means mu_1..mu_{J-1}; [J] log-precisions gamma_j = log lambda_j; [J-1] mixing
  // logits rho, pi_j = (1 - pi_0) softmax(rho)_j.
  Tensor mu, gamma, rho;
  Tensor eta;  // [1] logit of pi_0; a constant unless options().learn_pi_zero

 private:
  PriorOptions options_;
  double kappa_ = 0;
  Tensor one_minus_alpha_, beta_;  // [J] hyper-prior constants
};

// The fused op: -sum_i log p(w_i) over every tensor in `weights` (a 0-d tensor), in one pass per
// tensor without N x J temporaries, with the hand-derived gradients for the weights, mu [J-1],
// gamma [J], rho [J-1] and eta [1] (PAPER.md, "The loss"; r_ij the responsibilities):
//   dC/dw_i = sum_j r_ij lambda_j (w_i - mu_j)
//   dC/dmu_j = -sum_i r_ij lambda_j (w_i - mu_j)
//   dC/dgamma_j = -sum_i r_ij (1/2 - lambda_j (w_i - mu_j)^2 / 2)
//   dC/drho_m = -sum_i (r_im - s_m (1 - r_i0)),  s = softmax(rho)
//   dC/deta = -sum_i (r_i0 - pi_0),  pi_0 = sigmoid(eta)
// Every weight must have gamma's dtype and device, else sws::Error. With `part`, only the
// weights [part.first, part.first + part.count) of the tensors taken in order as one flat list
// count (the others get zero gradients); by default all of them.
Tensor mixture_negative_log_likelihood(const std::vector<Tensor>& weights, const Tensor& mu,
                                       const Tensor& gamma, const Tensor& rho, const Tensor& eta,
                                       Share part = {0, -1});
// The same with pi_0 a constant in (0, 1) (else sws::Error).
Tensor mixture_negative_log_likelihood(const std::vector<Tensor>& weights, const Tensor& mu,
                                       const Tensor& gamma, const Tensor& rho, double pi_zero);

}  // namespace sws
