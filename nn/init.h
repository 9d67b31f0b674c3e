// PyTorch's default initialisation of Linear and Conv2d (kaiming_uniform with a = sqrt(5)):
// weights and biases both uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)].
#pragma once
#include "core/rng.h"
#include "core/tensor.h"

namespace sws {

// A new F32 CPU tensor of this shape, uniform in [-bound, bound), drawn in row-major order.
Tensor uniform_tensor(const Shape& shape, double bound, Rng& rng);
// 1/sqrt(fan_in): PyTorch's bound for both weight and bias of Linear (fan_in = in_features) and
// Conv2d (fan_in = in_channels x kh x kw).
double default_init_bound(int64_t fan_in);

}  // namespace sws
