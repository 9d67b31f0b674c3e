// Removing dead units: the network computes the same function before and after, and exactly
// the units built dead are removed.
#include <doctest/doctest.h>

#include <cmath>

#include "compress/dead_units.h"
#include "nn/layers.h"
#include "nn/models.h"

using namespace sws;

namespace {

Tensor random_input(const Shape& shape, Rng& rng) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.uniform());
  return Tensor::from_vector(v, shape);
}

float max_abs_difference(const Tensor& a, const Tensor& b) {
  const std::vector<float> x = a.to_float_vector(), y = b.to_float_vector();
  float m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

int64_t nonzeros(const Module& m) {
  int64_t n = 0;
  for (const Tensor& p : m.parameters())
    for (float v : p.to_float_vector()) n += v != 0.0f;
  return n;
}

// Sets every weight of a layer's unit (row or output channel) to 0.
void zero_unit(Tensor w, int64_t u) {
  const int64_t per = w.numel() / w.size(0);
  float* d = w.data<float>();
  for (int64_t i = 0; i < per; ++i) d[u * per + i] = 0;
}

}  // namespace

TEST_CASE("dead units: an MLP keeps its function; a zero constant's readers go, a non-zero one stays") {
  Rng rng(7);
  auto net = make_mlp({12, 6, 5, 3}, rng);
  auto& fc1 = dynamic_cast<Linear&>(*net->children()[1].second);
  auto& fc2 = dynamic_cast<Linear&>(*net->children()[3].second);
  // fc1 unit 2: no inputs, bias 0.5 -> relu gives 0.5: kept (folding it would put new values
  // into fc2's bias). Unit 4: no inputs, bias -0.3 -> relu gives 0: its readers go. fc2 unit 1:
  // nobody in fc3 reads it.
  zero_unit(fc1.weight, 2), zero_unit(fc1.weight, 4);
  fc1.bias.data<float>()[2] = 0.5f, fc1.bias.data<float>()[4] = -0.3f;
  auto& fc3 = dynamic_cast<Linear&>(*net->children()[5].second);
  for (int64_t o = 0; o < 3; ++o) fc3.weight.data<float>()[o * 5 + 1] = 0;
  const std::vector<float> fc2_bias = fc2.bias.to_float_vector();
  const Tensor x = random_input({4, 12}, rng);
  const Tensor before = (*net)(x);
  const int64_t nz = nonzeros(*net);
  const DeadUnitsResult r = remove_dead_units(*net);
  CHECK(max_abs_difference((*net)(x), before) == 0.0f);
  CHECK(r.dead_in == 1);
  CHECK(r.dead_out == 1);
  CHECK(r.constant_kept == 1);
  // fc2's column 4 (5 weights) and fc1's bias 4; then fc2's row 1 (6 weights, its column 4
  // already gone) and its bias.
  CHECK(r.weights_zeroed == 5 + 1 + 5 + 1);
  CHECK(nonzeros(*net) == nz - r.weights_zeroed);
  CHECK(fc1.bias.data<float>()[2] == 0.5f);
  for (int64_t o = 0; o < 5; ++o)
    if (o != 1) CHECK(fc2.bias.data<float>()[o] == fc2_bias[o]);  // no new bias values
  CHECK(remove_dead_units(*net).weights_zeroed == 0);  // nothing left to do
}

TEST_CASE("dead units: LeNet-5 through pooling, convolutions and flatten keeps its function") {
  Rng rng(9);
  auto net = make_lenet5(rng);
  auto& conv1 = dynamic_cast<Conv2d&>(*net->children()[0].second);
  auto& conv2 = dynamic_cast<Conv2d&>(*net->children()[2].second);
  auto& fc1 = dynamic_cast<Linear&>(*net->children()[5].second);
  auto& fc2 = dynamic_cast<Linear&>(*net->children()[7].second);
  // conv1 channel 4: no reader in conv2 (conv2.weight[:, 4]): goes (convolution to convolution).
  float* w2 = conv2.weight.data<float>();
  for (int64_t o = 0; o < 50; ++o)
    for (int64_t s = 0; s < 25; ++s) w2[(o * 20 + 4) * 25 + s] = 0;
  // conv2 channel 3: no inputs, bias 0.2 (no ReLU after the convolutions): a non-zero constant,
  // kept. Channel 5: no inputs, bias 0: fc1's 500 x 16 reads of it go. Channel 7: no reader in
  // fc1 (columns 7*16..7*16+15): goes. fc1 unit 10: nobody in fc2 reads it: goes.
  zero_unit(conv2.weight, 3), zero_unit(conv2.weight, 5);
  conv2.bias.data<float>()[3] = 0.2f, conv2.bias.data<float>()[5] = 0.0f;
  float* w1 = fc1.weight.data<float>();
  for (int64_t o = 0; o < 500; ++o)
    for (int64_t s = 0; s < 16; ++s) w1[o * 800 + 7 * 16 + s] = 0;
  for (int64_t o = 0; o < 10; ++o) fc2.weight.data<float>()[o * 500 + 10] = 0;
  const Tensor x = random_input({2, 1, 28, 28}, rng);
  const Tensor before = (*net)(x);
  const DeadUnitsResult r = remove_dead_units(*net);
  CHECK(max_abs_difference((*net)(x), before) == 0.0f);
  CHECK(r.dead_in == 1);
  CHECK(r.dead_out == 3);
  CHECK(r.constant_kept == 1);
  for (int64_t s = 0; s < 25; ++s) CHECK(conv1.weight.data<float>()[4 * 25 + s] == 0.0f);
  for (int64_t s = 0; s < 16; ++s) CHECK(w1[5 * 16 + s] == 0.0f);   // fc1's reads of channel 5 went
  CHECK(w1[3 * 16] != 0.0f);                                        // channel 3's stayed
  CHECK(conv2.bias.data<float>()[3] == 0.2f);
  CHECK(fc1.bias.data<float>()[10] == 0.0f);
}
