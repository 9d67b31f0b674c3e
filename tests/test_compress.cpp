// Post-processing (merge, assign) on crafted mixtures and the paper's compression accounting
// on hand-made sparse tensors with bit counts worked out by hand.
#include <doctest/doctest.h>

#include <cmath>

#include "compress/paper_accounting.h"
#include "compress/quantize.h"

using namespace sws;

TEST_CASE("huffman code lengths") {
  CHECK(huffman_code_lengths({1, 1, 1}) == std::vector<int>{2, 2, 1});  // merge the first two, then the third
  CHECK(huffman_code_lengths({5, 0, 1, 1, 2}) == std::vector<int>{1, 0, 3, 3, 2});
  CHECK(huffman_code_lengths({0, 7}) == std::vector<int>{0, 1});  // a lone symbol still costs a bit
}

TEST_CASE("paper accounting of a small dense tensor, by hand") {
  // Non-zeros at 1, 4, 5 -> gaps 2, 3, 1 -> symbols 1, 2, 0, one each: Huffman 2 + 2 + 1 = 5 bits.
  // Values 1.5, 1.5, -2 -> codebook {-2: 1, 1.5: 2}; counts 1 and 2 -> 1 bit each = 3 bits.
  // Codebook 2 x 32 = 64 bits. Total 72 bits for 10 parameters.
  const TensorAccount a = account_tensor("fc.weight", {0, 1.5f, 0, 0, 1.5f, -2, 0, 0, 0, 0}, 5);
  CHECK(a.nonzeros == 3);
  CHECK(a.fillers == 0);
  CHECK(a.index_bits == 5);
  CHECK(a.value_bits == 3);
  CHECK(a.codebook_bits == 64);
  CHECK(a.total_bits() == 72);
}

TEST_CASE("paper accounting inserts fillers when a gap overflows") {
  // 5-bit gaps reach at most 32. Non-zeros at 40 and 41: the first gap is 41 = 32 (filler) + 9,
  // the second 1. Gap symbols 31, 8, 0 (one each: 5 bits); value symbols: filler 0 once and
  // codebook index 1 twice (1 bit each: 3 bits); codebook 32 bits. Total 40 bits.
  std::vector<float> v(100, 0.0f);
  v[40] = v[41] = 0.25f;
  const TensorAccount a = account_tensor("fc.weight", v, 5);
  CHECK(a.fillers == 1);
  CHECK(a.index_bits == 5);
  CHECK(a.value_bits == 3);
  CHECK(a.total_bits() == 40);
  // With 8-bit gaps (a convolution) no filler is needed: gaps 41 and 1 (2 bits), values 2 bits.
  const TensorAccount c = account_tensor("conv.weight", v, 8);
  CHECK(c.fillers == 0);
  CHECK(c.total_bits() == 2 + 2 + 32);
  // An all-zero tensor costs nothing.
  CHECK(account_tensor("b", std::vector<float>(7, 0.0f), 5).total_bits() == 0);
}

TEST_CASE("merging components: near-identical ones merge with pi-weighted moments") {
  Mixture m{{0.0, 0.5, 0.5000001, -0.3}, {100.0, 400.0, 400.0, 100.0}, {0.9, 0.03, 0.01, 0.06}};
  const Mixture merged = merge_components(m, 1e-6);
  REQUIRE(merged.size() == 3);
  CHECK(merged.pi[1] == doctest::Approx(0.04));
  CHECK(merged.mu[1] == doctest::Approx((0.03 * 0.5 + 0.01 * 0.5000001) / 0.04));
  CHECK(merged.lambda[1] == doctest::Approx(400.0));
  CHECK(merged.mu[0] == 0.0);
  // A free component sitting on the zero component merges into it and keeps mean 0.
  Mixture z{{0.0, 1e-9}, {1000.0, 1000.0}, {0.99, 0.01}};
  const Mixture zm = merge_components(z, 1e-6);
  REQUIRE(zm.size() == 1);
  CHECK(zm.mu[0] == 0.0);
  CHECK(zm.pi[0] == doctest::Approx(1.0));
  CHECK(gaussian_kl(0.3, 4.0, 0.3, 4.0) == doctest::Approx(0.0));
  // KL(N(0,1) || N(1,1)) = 1/2.
  CHECK(gaussian_kl(0.0, 1.0, 1.0, 1.0) == doctest::Approx(0.5));
}

TEST_CASE("merging within widths: the issue's near-equal means become one, distinct ones stay") {
  // Means 0.1350, 0.1360 and 0.1368 (sigma 0.01 each: 0.1 sigma apart) as a user's run left them,
  // which a KL threshold of 1e-10 keeps apart; and a component 3 sigma away that must stay.
  const double lambda = 1.0 / (0.01 * 0.01);
  Mixture m{{0.0, 0.1350, 0.1360, 0.1368, 0.1650}, {1e4, lambda, lambda, lambda, lambda}, {0.9, 0.02, 0.03, 0.01, 0.04}};
  CHECK(merge_components(m, 1e-10).size() == 5);
  const Mixture merged = merge_within_widths(m, 1.0);
  REQUIRE(merged.size() == 3);
  CHECK(merged.mu[0] == 0.0);
  CHECK(merged.pi[1] == doctest::Approx(0.06));
  CHECK(merged.mu[1] == doctest::Approx((0.02 * 0.1350 + 0.03 * 0.1360 + 0.01 * 0.1368) / 0.06));
  CHECK(merged.mu[2] == doctest::Approx(0.1650));
  // The distance is in the narrower component's sigma: a wide component does not swallow a
  // narrow one 2 of the narrow one's sigmas away.
  Mixture wide{{0.0, 0.10, 0.12}, {1e4, 1.0 / (0.01 * 0.01), 1.0 / (0.5 * 0.5)}, {0.9, 0.05, 0.05}};
  CHECK(merge_within_widths(wide, 1.0).size() == 3);
  CHECK(merge_within_widths(wide, 2.5).size() == 2);
  // Onto zero: mean 0 and index 0 kept; widths 0 merges nothing.
  Mixture z{{0.0, 0.001}, {1e4, 1e4}, {0.99, 0.01}};
  CHECK(merge_within_widths(z, 1.0).size() == 1);
  CHECK(merge_within_widths(z, 1.0).mu[0] == 0.0);
  CHECK(merge_within_widths(z, 0.0).size() == 2);
}

TEST_CASE("assignment snaps weights to the most responsible mean, zero to exactly 0") {
  Mixture m{{0.0, 0.5, -0.5}, {10000.0, 100.0, 100.0}, {0.98, 0.01, 0.01}};
  Tensor w = Tensor::from_vector(std::vector<float>{0.001f, 0.45f, -0.6f, 0.2f, -0.0f}, {5});
  assign_to_means({w}, m, Assignment::MaximumAPosteriori);
  const auto v = w.to_float_vector();
  CHECK(v[0] == 0.0f);
  CHECK(v[1] == 0.5f);
  CHECK(v[2] == -0.5f);
  CHECK(v[4] == 0.0f);
  // 0.2 is 0.2 from zero (lambda 1e4: log-density far below) and 0.3 from 0.5 (lambda 100):
  // the broad component wins under both rules.
  CHECK(v[3] == 0.5f);
  // With a weight between a heavy zero component and a light one, MAP and ML can differ:
  // at w = 0.04, N(0.04 | 0, 1/1e4) ~ 40 * e^-8 vs N(0.04 | 0.5, 1/100) ~ 4 * e^-10.6;
  // scaled by pi (0.98 vs 0.01) zero wins either way; at w = 0.06 zero's density falls to
  // 40 * e^-18 and the free component wins in both.
  Tensor u = Tensor::from_vector(std::vector<float>{0.04f, 0.06f}, {2});
  assign_to_means({u}, m, Assignment::MaximumLikelihood);
  CHECK(u.to_float_vector() == std::vector<float>{0.0f, 0.5f});
  const auto stats = sparsity_stats({{"w", w}});
  CHECK(stats[0].nonzeros == 3);
  CHECK(stats[0].distinct_nonzero == 2);
}
