// The mixture prior's fused op: gradients by finite differences, values against a naive
// reference and a closed form, numerical stability.
#include "gradcheck.h"

#include <cmath>

#include "compress/gaussian_mixture_prior.h"
#include "compress/prior_file.h"
#include "temp_dir.h"

using namespace sws;
using sws::testing::check_gradients;
using sws::testing::random_input;

namespace {

// -sum_i log sum_j pi_j N(w_i | mu_j, 1/lambda_j), straight from the definition, in double.
double naive_nll(const std::vector<double>& w, const std::vector<double>& mu_free, const std::vector<double>& gamma,
                 const std::vector<double>& rho, double pi0) {
  const size_t J = gamma.size();
  double m = *std::max_element(rho.begin(), rho.end()), z = 0;
  for (double r : rho) z += std::exp(r - m);
  double total = 0;
  for (double x : w) {
    double p = 0;
    for (size_t j = 0; j < J; ++j) {
      const double mu = j == 0 ? 0.0 : mu_free[j - 1];
      const double pi = j == 0 ? pi0 : (1 - pi0) * std::exp(rho[j - 1] - m) / z;
      const double lambda = std::exp(gamma[j]);
      p += pi * std::sqrt(lambda / (2 * M_PI)) * std::exp(-0.5 * lambda * (x - mu) * (x - mu));
    }
    total -= std::log(p);
  }
  return total;
}

}  // namespace

TEST_CASE("prior: every gradient of the fused op matches finite differences") {
  Rng rng(21);
  Tensor w1 = random_input({7, 3}, rng, -0.5, 0.5), w2 = random_input({5}, rng, -0.5, 0.5);
  Tensor mu = random_input({4}, rng, -0.4, 0.4);
  Tensor gamma = random_input({5}, rng, 1.0, 3.0);
  Tensor rho = random_input({4}, rng, -1.0, 1.0);
  check_gradients([](auto& in) { return mixture_negative_log_likelihood({in[0], in[1]}, in[2], in[3], in[4], 0.7); },
                  {w1, w2, mu, gamma, rho}, 1e-6, 1e-6);
}

TEST_CASE("prior: the complexity term (with Gamma hyper-priors) has correct gradients") {
  Rng rng(22);
  Tensor w = random_input({20}, rng, -0.3, 0.3);
  PriorOptions options;
  options.components = 4;
  options.pi_zero = 0.9;
  options.alpha_zero = 50, options.beta_zero = 2, options.alpha = 25, options.beta = 0.1;
  GaussianMixturePrior prior(options, {w});
  // Move the prior off its symmetric start so that every gradient is informative.
  prior.mu.data<double>()[0] += 0.05;
  prior.rho.data<double>()[1] = 0.4;
  prior.gamma.data<double>()[2] = 2.0;
  check_gradients([&](auto& in) {
    GaussianMixturePrior p = prior;
    p.mu = in[1], p.gamma = in[2], p.rho = in[3];
    return p.complexity({in[0]});
  }, {w, prior.mu, prior.gamma, prior.rho}, 1e-6, 1e-6);
}

TEST_CASE("prior: with a learned pi_0, the logit's gradient (and the Beta hyper-prior's) match finite differences") {
  Rng rng(24);
  Tensor w = random_input({9, 2}, rng, -0.5, 0.5);
  Tensor mu = random_input({3}, rng, -0.4, 0.4);
  Tensor gamma = random_input({4}, rng, 1.0, 3.0);
  Tensor rho = random_input({3}, rng, -1.0, 1.0);
  Tensor eta = Tensor::full({1}, 1.3, DType::F64);
  check_gradients([](auto& in) { return mixture_negative_log_likelihood({in[0]}, in[1], in[2], in[3], in[4]); },
                  {w, mu, gamma, rho, eta}, 1e-6, 1e-6);

  PriorOptions options;
  options.components = 4;
  options.pi_zero = 0.8;
  options.learn_pi_zero = true;
  options.pi_zero_concentration = 30;
  options.alpha_zero = 50, options.beta_zero = 2, options.alpha = 25, options.beta = 0.1;
  GaussianMixturePrior prior(options, {w});
  prior.eta.data<double>()[0] = 0.4;  // away from the Beta mode, so its term pulls
  CHECK(prior.named_parameters().back().first == "prior.zero_logit");
  CHECK(prior.mixing_proportions()[0] == doctest::Approx(1 / (1 + std::exp(-0.4))));
  check_gradients([&](auto& in) {
    GaussianMixturePrior p = prior;
    p.mu = in[1], p.gamma = in[2], p.rho = in[3], p.eta = in[4];
    return p.complexity({in[0]});
  }, {w, prior.mu, prior.gamma, prior.rho, prior.eta}, 1e-6, 1e-6);
  // The value adds -(a - 1) log pi_0 - (b - 1) log(1 - pi_0) to the fixed-pi_0 complexity.
  const double pi0 = 1 / (1 + std::exp(-0.4)), a = 1 + 30 * 0.8, b = 1 + 30 * 0.2;
  GaussianMixturePrior fixed = prior;
  fixed.eta = prior.eta.detach();
  const double with_beta = prior.complexity({w}).item();
  PriorOptions fixed_options = options;
  fixed_options.learn_pi_zero = false;
  fixed_options.pi_zero = pi0;
  GaussianMixturePrior same(fixed_options, {w});
  same.mu = prior.mu, same.gamma = prior.gamma, same.rho = prior.rho;
  CHECK(with_beta - same.complexity({w}).item() ==
        doctest::Approx(-(a - 1) * std::log(pi0) - (b - 1) * std::log(1 - pi0)).epsilon(1e-9));
}

TEST_CASE("prior: float op agrees with a naive double reference on random inputs") {
  Rng rng(23);
  for (int trial = 0; trial < 3; ++trial) {
    const int64_t n = 10007, J = 17;
    std::vector<double> w(n), mu(J - 1), gamma(J), rho(J - 1);
    for (double& x : w) x = 0.1 * rng.normal();
    for (int64_t j = 0; j < J - 1; ++j) mu[j] = -0.6 + 1.2 * j / (J - 2), rho[j] = rng.uniform(-1, 1);
    for (double& g : gamma) g = rng.uniform(2.0, 8.0);
    const double pi0 = 0.99;
    auto f32 = [](const std::vector<double>& v, const Shape& s) {
      Tensor t = Tensor::from_vector(v, s).to(DType::F32);
      t.set_requires_grad(true);
      return t;
    };
    Tensor tw = f32(w, {n}), tmu = f32(mu, {J - 1}), tg = f32(gamma, {J}), tr = f32(rho, {J - 1});
    Tensor value = mixture_negative_log_likelihood({tw}, tmu, tg, tr, pi0);
    const double expected = naive_nll(w, mu, gamma, rho, pi0);
    CHECK(value.item() == doctest::Approx(expected).epsilon(1e-5));
    value.backward();
    // The mean's gradient against central differences of the naive reference.
    for (int64_t j : {0, 7, 15}) {
      auto plus = mu, minus = mu;
      plus[j] += 1e-5, minus[j] -= 1e-5;
      const double numeric = (naive_nll(w, plus, gamma, rho, pi0) - naive_nll(w, minus, gamma, rho, pi0)) / 2e-5;
      CHECK(tmu.grad().to_double_vector()[j] == doctest::Approx(numeric).epsilon(1e-3).scale(1.0));
    }
  }
}

TEST_CASE("prior: one weight, two components, closed form") {
  // p(w) = pi0 N(w | 0, 1/lambda0) + (1 - pi0) N(w | mu, 1/lambda1) with w = 0.5, pi0 = 0.9,
  // lambda0 = 4, mu = 1, lambda1 = 1 (the single free component has softmax weight 1):
  // N(0.5 | 0, 1/4) = sqrt(4 / 2pi) e^{-0.5}, N(0.5 | 1, 1) = sqrt(1 / 2pi) e^{-0.125}.
  const double expected =
      -std::log(0.9 * std::sqrt(4 / (2 * M_PI)) * std::exp(-0.5) + 0.1 * std::sqrt(1 / (2 * M_PI)) * std::exp(-0.125));
  CHECK(expected == doctest::Approx(0.753427).epsilon(1e-5));
  for (DType dtype : {DType::F64, DType::F32}) {
    Tensor w = Tensor::full({1}, 0.5, dtype), mu = Tensor::full({1}, 1.0, dtype);
    Tensor gamma = Tensor::from_vector(std::vector<double>{std::log(4.0), 0.0}, {2}).to(dtype);
    Tensor rho = Tensor::full({1}, 0.3, dtype);
    CHECK(mixture_negative_log_likelihood({w}, mu, gamma, rho, 0.9).item() ==
          doctest::Approx(expected).epsilon(dtype == DType::F64 ? 1e-12 : 1e-6));
  }
}

TEST_CASE("prior: far-away weights and sharp components stay finite") {
  Tensor w = Tensor::from_vector(std::vector<float>{100.f, -50.f, 0.f, 1e-4f}, {4});
  Tensor mu = Tensor::from_vector(std::vector<float>{0.1f, -0.1f}, {2});
  Tensor gamma = Tensor::full({3}, 20.0);  // sigma ~ 4.5e-5
  Tensor rho = Tensor::zeros({2});
  w.set_requires_grad(true);
  Tensor v = mixture_negative_log_likelihood({w}, mu, gamma, rho, 0.999);
  CHECK(std::isfinite(v.item()));
  v.backward();
  for (double g : w.grad().to_double_vector()) CHECK(std::isfinite(g));
}

TEST_CASE("prior: initialisation follows the paper and the tutorial") {
  Tensor w = Tensor::from_vector(std::vector<float>{-0.3f, 0.1f, 0.5f}, {3});
  PriorOptions o;  // J = 17, pi0 = 0.999, means over the weights' range
  GaussianMixturePrior paper(o, {w});
  const auto m = paper.means();
  CHECK(m.size() == 17);
  CHECK(m[0] == 0.0);
  CHECK(m[1] == doctest::Approx(-0.3));
  CHECK(m[16] == doctest::Approx(0.5));
  const auto pi = paper.mixing_proportions();
  CHECK(pi[0] == doctest::Approx(0.999).epsilon(1e-9));  // eta = logit(pi_0) is stored in float
  CHECK(pi[5] == doctest::Approx(0.001 / 16));
  CHECK(paper.precisions()[3] == doctest::Approx(16.0));  // sigma 0.25
  o.init = "fixed";
  o.components = 16;
  GaussianMixturePrior tutorial(o, {w});
  CHECK(tutorial.means()[1] == doctest::Approx(-0.6));
  CHECK(tutorial.means()[15] == doctest::Approx(0.6));
  o.pi_zero = 1.0;
  CHECK_THROWS_WITH(GaussianMixturePrior(o, {w}), doctest::Contains("--pi0"));
  o.pi_zero = 0.99;
  o.components = 1;
  CHECK_THROWS_WITH(GaussianMixturePrior(o, {w}), doctest::Contains("at least 2"));
}

TEST_CASE("prior: a relaxed pi_0 is the prior's from then on, and its file keeps it") {
  testing::TempDir dir("prior_relaxed");
  Tensor w = Tensor::from_vector(std::vector<float>{-0.3f, 0.02f, 0.5f}, {3});
  GaussianMixturePrior prior(PriorOptions{}, {w});  // pi_0 = 0.999
  const double before = prior.complexity({w}).item();
  prior.set_pi_zero(0.99);
  CHECK(prior.mixing_proportions()[0] == doctest::Approx(0.99).epsilon(1e-7));
  CHECK(prior.mixing_proportions()[3] == doctest::Approx(0.01 / 16).epsilon(1e-5));
  CHECK(prior.complexity({w}).item() != before);  // the term sees it
  save_prior(prior, dir.file("prior.safetensors"));
  const auto loaded = load_prior(dir.file("prior.safetensors"), {w});
  CHECK(loaded->options().pi_zero == 0.99);
  CHECK(loaded->mixing_proportions() == prior.mixing_proportions());
  CHECK_THROWS_WITH(prior.set_pi_zero(1.0), doctest::Contains("(0, 1)"));
  PriorOptions learned;
  learned.learn_pi_zero = true;
  GaussianMixturePrior learning(learned, {w});
  CHECK_THROWS_WITH(learning.set_pi_zero(0.99), doctest::Contains("learned"));
}

TEST_CASE("prior: a Beta hyper-prior per weight scales kappa with the number of weights") {
  testing::TempDir dir("prior_per_weight");
  Tensor w = Tensor::from_vector(std::vector<float>{-0.3f, 0.02f, 0.5f, 0.0f}, {4});
  PriorOptions o;
  o.learn_pi_zero = true;
  o.pi_zero_concentration_per_weight = 2.5;
  GaussianMixturePrior prior(o, {w});
  CHECK(prior.pi_zero_concentration() == 10.0);  // 2.5 x 4 weights
  // Its share of the complexity: the Beta term with kappa = 10 (against the same prior with
  // kappa = 10 given directly).
  PriorOptions direct = o;
  direct.pi_zero_concentration_per_weight = 0, direct.pi_zero_concentration = 10;
  GaussianMixturePrior same(direct, {w});
  CHECK(prior.complexity({w}).item() == same.complexity({w}).item());
  save_prior(prior, dir.file("prior.safetensors"));
  CHECK(load_prior(dir.file("prior.safetensors"), {w})->pi_zero_concentration() == 10.0);
  o.pi_zero_concentration_per_weight = -1;
  CHECK_THROWS_WITH(GaussianMixturePrior(o, {w}), doctest::Contains("--pi0-concentration-per-weight"));
}

TEST_CASE("prior: split over ranks, the pieces' values and gradients sum to the whole prior's") {
  // Data-parallel retraining: rank r of R computes the complexity on its share of the weights
  // (taken as one flat list across tensors) and rank 0 adds the hyper-priors; the allreduce sums
  // the pieces. In double precision the sums agree to rounding.
  Rng rng(23);
  const std::vector<Tensor> weights{random_input({7, 3}, rng, -0.5, 0.5), random_input({5}, rng, -0.5, 0.5),
                                    random_input({11}, rng, -0.5, 0.5)};
  PriorOptions options;
  options.components = 5;
  options.pi_zero = 0.8;
  options.learn_pi_zero = true;  // every parameter, eta included
  options.pi_zero_concentration = 40;
  GaussianMixturePrior prior(options, weights);
  prior.mu.data<double>()[1] += 0.07;
  prior.rho.data<double>()[2] = 0.3;
  prior.gamma.data<double>()[3] = 2.5;
  std::vector<Tensor> leaves = weights;
  for (const auto& named : prior.named_parameters()) leaves.push_back(named.second);
  auto value_and_gradients = [&](int rank, int ranks) {
    for (Tensor& t : leaves) t.set_grad(Tensor());
    Tensor c = prior.complexity(weights, rank, ranks);
    c.backward();
    std::vector<std::vector<double>> out{{c.item()}};
    for (const Tensor& t : leaves) out.push_back(t.grad().defined() ? t.grad().to_double_vector() : std::vector<double>(t.numel(), 0.0));
    return out;
  };
  const auto whole = value_and_gradients(0, 1);
  for (int ranks : {2, 3, 7}) {
    CAPTURE(ranks);
    auto summed = value_and_gradients(0, ranks);
    for (int r = 1; r < ranks; ++r) {
      const auto piece = value_and_gradients(r, ranks);
      for (size_t k = 0; k < summed.size(); ++k)
        for (size_t i = 0; i < summed[k].size(); ++i) summed[k][i] += piece[k][i];
    }
    for (size_t k = 0; k < whole.size(); ++k)
      for (size_t i = 0; i < whole[k].size(); ++i) CHECK(summed[k][i] == doctest::Approx(whole[k][i]).epsilon(1e-12));
  }
  // A share that starts inside one tensor and ends inside another: the weights outside get zero gradients.
  const auto second = value_and_gradients(1, 3);  // flat weights [13, 25) of 37: w0 [13, 21), w1 [0, 4), no w2
  CHECK(second[1][12] == 0.0);
  CHECK(second[1][13] != 0.0);
  CHECK(second[2][3] != 0.0);
  CHECK(second[2][4] == 0.0);
  CHECK(second[3][0] == 0.0);
  CHECK_THROWS_AS(prior.complexity(weights, 3, 3), Error);
}
