#include "nn/layers.h"

#include "autograd/ops.h"
#include "nn/init.h"

namespace sws {

Linear::Linear(int64_t in_features, int64_t out_features, Rng& rng, bool with_bias) {
  const double bound = default_init_bound(in_features);
  weight = register_parameter("weight", uniform_tensor({out_features, in_features}, bound, rng));
  if (with_bias) bias = register_parameter("bias", uniform_tensor({out_features}, bound, rng));
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, Rng& rng, int64_t stride,
               int64_t padding, bool with_bias)
    : stride(stride), padding(padding) {
  const double bound = default_init_bound(in_channels * kernel * kernel);
  weight = register_parameter("weight", uniform_tensor({out_channels, in_channels, kernel, kernel}, bound, rng));
  if (with_bias) bias = register_parameter("bias", uniform_tensor({out_channels}, bound, rng));
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, stride, padding); }

Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, kernel, stride); }

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

Tensor Flatten::forward(const Tensor& x) { return flatten(x); }

}  // namespace sws
