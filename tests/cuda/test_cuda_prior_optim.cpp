// CUDA mixture prior, optimiser updates and caching allocator against the CPU backend.
#include <algorithm>
#include <cmath>

#include "autograd/ops.h"
#include "optim/adam.h"
#include "tests/cuda/cuda_test_util.h"

using namespace sws;
using namespace sws::cudatest;

namespace {

// Mixture [3, J] (F64): means spread over [-0.6, 0.6], log mixing proportions of a proper
// distribution with a heavy zero component, log-precisions around log(1/0.05^2).
Tensor random_mixture(int64_t J, Rng& rng) {
  std::vector<double> m(static_cast<size_t>(3 * J));
  std::vector<double> logits(static_cast<size_t>(J));
  double norm = 0.0;
  for (int64_t j = 0; j < J; ++j) {
    m[j] = J == 1 ? 0.0 : -0.6 + 1.2 * static_cast<double>(j) / static_cast<double>(J - 1) + rng.uniform(-0.01, 0.01);
    logits[j] = j == J / 2 ? 4.0 : rng.uniform(-1.0, 1.0);
    norm += std::exp(logits[j]);
  }
  for (int64_t j = 0; j < J; ++j) {
    m[J + j] = logits[j] - std::log(norm);
    m[2 * J + j] = std::log(1.0 / (0.05 * 0.05)) + rng.uniform(-2.0, 2.0);
  }
  return Tensor::from_vector(m, {3, J});
}

// Weights: mostly near the means, some far out (tails), as during retraining.
Tensor random_weights(int64_t n, DType dtype, Rng& rng) {
  std::vector<double> w(static_cast<size_t>(n));
  for (double& x : w) x = rng.uniform() < 0.9 ? 0.2 * rng.normal() : rng.uniform(-2.0, 2.0);
  return Tensor::from_vector(w, {n}).to(dtype);
}

}  // namespace

// The size of one weight's term in each statistic (for tolerances of sums over n weights):
// r in [0, 1]; r lambda (w - mu) ~ sqrt(lambda); r (1/2 - lambda d^2 / 2) and -log p(w) ~ 10.
double term_scale(int64_t k, int64_t J) {
  if (k < J) return 1.0;
  if (k < 2 * J) return 100.0;
  return 10.0;
}

TEST_CASE("cuda: mixture prior gives the CPU's value, grad_w and every statistic, deterministically") {
  Rng rng(21);
  for (DType dtype : {DType::F64, DType::F32})
    for (int64_t J : {1, 3, 17, 64})
      for (int64_t n : {1, 1000, 100003, 431080}) {
        const std::string tag = std::string(dtype_name(dtype)) + " J" + std::to_string(J) + " n" + std::to_string(n);
        const Tensor mix = random_mixture(J, rng), w = random_weights(n, dtype, rng);
        // The reference: the CPU in F64 on the same weights (exact for F32 weights too; the CPU's
        // own F32 path sums blocks in float and uses fast_exp, so it is the less accurate one).
        // stats are added to, so they start from something non-zero.
        const Tensor start = random_tensor({3 * J + 1}, DType::F64, rng);
        Tensor hg = Tensor::empty({n}, DType::F64), hs = start.clone();
        cpu().mixture_prior(w.to(DType::F64), mix, hg, hs);
        const Tensor dw = on_gpu(w), dmix = on_gpu(mix);
        Tensor dg = Tensor::full({n}, 3.0, dtype, dev()), ds = on_gpu(start);
        gpu().mixture_prior(dw, dmix, dg, ds);
        const bool f64 = dtype == DType::F64;
        // a_j = c_j - lambda_j d^2 / 2 is rounded (F32: ulp ~ 1e-5 at |a_j| ~ 100; F64: either side
        // may fuse the multiply-add), so a weight between two sharp components carries an error of
        // ~ulp(a_j) lambda_j |d| in grad_w.
        const std::vector<double> mix_values = mix.to_double_vector();
        double max_lambda = 0.0;
        for (int64_t j = 0; j < J; ++j) max_lambda = std::max(max_lambda, std::exp(mix_values[2 * J + j]));
        expect_close(dg.to(DType::F64), hg, f64 ? 1e-11 : 1e-4, (f64 ? 1e-12 : 1e-5) * max_lambda, "grad_w " + tag);
        const std::vector<double> a = ds.to_double_vector(), b = hs.to_double_vector();
        for (int64_t k = 0; k < 3 * J + 1; ++k) {
          // Per-term rounding (1e-16 or 1e-7 relative) accumulated over n weights, worst case.
          const double per_term = (f64 ? 1e-15 : 1e-6) * term_scale(k, J);
          const double tol = (f64 ? 1e-11 : 1e-5) * (1.0 + std::fabs(b[k])) + per_term * static_cast<double>(n);
          CHECK_MESSAGE(std::fabs(a[k] - b[k]) <= tol, "stats[" << k << "] " << tag << ": gpu " << a[k] << " vs cpu "
                                                                << b[k]);
        }
        // Two calls: the same bits.
        Tensor dg2 = Tensor::empty({n}, dtype, dev()), ds2 = on_gpu(start);
        gpu().mixture_prior(dw, dmix, dg2, ds2);
        expect_same_bits(dg2, dg, "grad_w twice " + tag);
        expect_same_bits(ds2, ds, "stats twice " + tag);
      }
}

TEST_CASE("cuda: mixture prior rejects more components than it supports") {
  Rng rng(22);
  const int64_t J = 129;
  const Tensor mix = on_gpu(random_mixture(J, rng)), w = on_gpu(random_weights(100, DType::F32, rng));
  Tensor g = Tensor::empty({100}, DType::F32, dev()), s = Tensor::zeros({3 * J + 1}, DType::F64, dev());
  CHECK_THROWS_AS(gpu().mixture_prior(w, mix, g, s), Error);
}

TEST_CASE("cuda: adam_update and adam_update_many match the CPU over several steps and groups") {
  Rng rng(23);
  for (DType dtype : {DType::F32, DType::F64}) {
    const std::vector<int64_t> sizes = {1, 7, 5000, 70001, 3};
    const std::vector<AdamStep> steps = {{1e-3, 0.9, 0.999, 1e-8, 0.0, 1}, {5e-4, 0.8, 0.99, 1e-6, 1e-2, 1},
                                         {3e-3, 0.9, 0.999, 1e-8, 0.0, 1}, {1e-2, 0.5, 0.9, 1e-4, 0.1, 1},
                                         {2e-3, 0.9, 0.999, 1e-8, 0.0, 1}};
    std::vector<Tensor> hp, hm, hv, dp, dm, dv, dp1, dm1, dv1;
    for (int64_t n : sizes) {
      hp.push_back(random_tensor({n}, dtype, rng));
      hm.push_back(Tensor::zeros({n}, dtype));
      hv.push_back(Tensor::zeros({n}, dtype));
      for (auto* list : {&dp, &dp1}) list->push_back(on_gpu(hp.back()));
      for (auto* list : {&dm, &dm1, &dv, &dv1}) list->push_back(Tensor::zeros({n}, dtype, dev()));
    }
    for (int step = 1; step <= 4; ++step) {
      std::vector<AdamUpdate> host_updates, device_updates;
      for (size_t i = 0; i < sizes.size(); ++i) {
        const Tensor hg = random_tensor({sizes[i]}, dtype, rng), dg = on_gpu(hg);
        AdamStep s = steps[i];
        s.step = step;
        host_updates.push_back({hp[i], hg, hm[i], hv[i], s});
        device_updates.push_back({dp[i], dg, dm[i], dv[i], s});
        gpu().adam_update(dp1[i], dg, dm1[i], dv1[i], s);  // the single-tensor path
      }
      cpu().adam_update_many(host_updates);
      gpu().adam_update_many(device_updates);
    }
    const double tol = dtype == DType::F32 ? 1e-6 : 1e-14;
    for (size_t i = 0; i < sizes.size(); ++i) {
      const std::string tag = std::string(dtype_name(dtype)) + " tensor " + std::to_string(i);
      expect_close(dp[i], hp[i], tol, tol, "adam param " + tag);
      expect_close(dm[i], hm[i], tol, tol, "adam exp_avg " + tag);
      expect_close(dv[i], hv[i], tol, tol, "adam exp_avg_sq " + tag);
      expect_same_bits(dp1[i], dp[i], "adam fused vs single " + tag);
      expect_same_bits(dv1[i], dv[i], "adam fused vs single exp_avg_sq " + tag);
    }
  }
}

TEST_CASE("cuda: the Adam optimiser with groups steps a device model like the CPU one") {
  Rng rng(24);
  NamedTensors host_a, host_b, dev_a, dev_b;
  for (int i = 0; i < 3; ++i) {
    Tensor p = random_tensor({100 + 37 * i}, DType::F32, rng);
    Tensor q = on_gpu(p);
    p.set_requires_grad(true);
    q.set_requires_grad(true);
    (i < 2 ? host_a : host_b).emplace_back("p" + std::to_string(i), p);
    (i < 2 ? dev_a : dev_b).emplace_back("p" + std::to_string(i), q);
  }
  AdamOptions fast;
  fast.lr = 1e-2;
  fast.weight_decay = 1e-3;
  Adam host_opt({{"a", host_a, {}}, {"b", host_b, fast}});
  Adam dev_opt({{"a", dev_a, {}}, {"b", dev_b, fast}});
  for (int step = 0; step < 5; ++step) {
    for (size_t g = 0; g < 2; ++g)
      for (size_t i = 0; i < (g == 0 ? host_a.size() : host_b.size()); ++i) {
        Tensor& hp = (g == 0 ? host_a : host_b)[i].second;
        Tensor& dp = (g == 0 ? dev_a : dev_b)[i].second;
        const Tensor grad = random_tensor(hp.shape(), DType::F32, rng);
        hp.set_grad(grad);
        dp.set_grad(on_gpu(grad));
      }
    host_opt.step();
    dev_opt.step();
  }
  for (size_t i = 0; i < host_a.size(); ++i) expect_close(dev_a[i].second, host_a[i].second, 1e-6, 1e-6, "group a");
  for (size_t i = 0; i < host_b.size(); ++i) expect_close(dev_b[i].second, host_b[i].second, 1e-6, 1e-6, "group b");
}

TEST_CASE("cuda: sgd_update matches the CPU with and without momentum and Nesterov") {
  Rng rng(25);
  for (DType dtype : {DType::F32, DType::F64})
    for (double momentum : {0.0, 0.9})
      for (bool nesterov : {false, true}) {
        const int64_t n = 4099;
        Tensor hp = random_tensor({n}, dtype, rng), hb = Tensor::zeros({n}, dtype);
        Tensor dp = on_gpu(hp), db = Tensor::zeros({n}, dtype, dev());
        for (int step = 0; step < 3; ++step) {
          const Tensor g = random_tensor({n}, dtype, rng);
          const SgdStep s{0.05, momentum, 1e-3, nesterov, step == 0};
          cpu().sgd_update(hp, g, hb, s);
          gpu().sgd_update(dp, on_gpu(g), db, s);
        }
        const double tol = dtype == DType::F32 ? 1e-6 : 1e-14;
        expect_close(dp, hp, tol, tol, "sgd param");
        expect_close(db, hb, tol, tol, "sgd buffer");
      }
}

TEST_CASE("cuda: after a warm-up step, training steps make no new device allocation") {
  Rng rng(26);
  Tensor w1 = on_gpu(random_tensor({32, 1, 5, 5}, DType::F32, rng, -0.2, 0.2));
  Tensor b1 = Tensor::zeros({32}, DType::F32, dev());
  Tensor w2 = on_gpu(random_tensor({10, 32 * 12 * 12}, DType::F32, rng, -0.05, 0.05));
  Tensor b2 = Tensor::zeros({10}, DType::F32, dev());
  for (Tensor* t : {&w1, &b1, &w2, &b2}) t->set_requires_grad(true);
  Adam opt({{"all", {{"w1", w1}, {"b1", b1}, {"w2", w2}, {"b2", b2}}, {}}});
  const Tensor x = on_gpu(random_tensor({64, 1, 28, 28}, DType::F32, rng));
  std::vector<int32_t> labels(64);
  for (int32_t& l : labels) l = static_cast<int32_t>(rng.below(10));
  const Tensor y = on_gpu(Tensor::from_vector(labels, {64}));
  auto train_step = [&] {
    for (Tensor* t : {&w1, &b1, &w2, &b2}) t->set_grad(Tensor());
    Tensor h = max_pool2d(relu(conv2d(x, w1, b1)), 2, 2);
    Tensor loss = cross_entropy(linear(flatten(h), w2, b2), y);
    loss.backward();
    opt.step();
    return loss.item();
  };
  const double first = train_step();
  train_step();
  const size_t warm = gpu().memory_stats().system_allocations;
  double last = first;
  for (int i = 0; i < 5; ++i) last = train_step();
  CHECK(gpu().memory_stats().system_allocations == warm);
  CHECK(gpu().memory_stats().cached_bytes > 0);
  CHECK(last < first);  // and it learns
}
