#include "nn/init.h"

#include <cmath>

namespace sws {

Tensor uniform_tensor(const Shape& shape, double bound, Rng& rng) {
  std::vector<float> v(static_cast<size_t>(shape_numel(shape)));
  for (float& x : v) x = static_cast<float>(rng.uniform(-bound, bound));
  return Tensor::from_vector(v, shape);
}

double default_init_bound(int64_t fan_in) { return 1.0 / std::sqrt(static_cast<double>(fan_in)); }

}  // namespace sws
