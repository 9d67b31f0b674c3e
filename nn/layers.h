// The layers: Linear, Conv2d, MaxPool2d, ReLU, Flatten. PyTorch layouts (Linear weight
// [out, in]; Conv2d weight [out, in, kh, kw]) and PyTorch's default initialisation.
#pragma once
#include "core/rng.h"
#include "nn/module.h"

namespace sws {

// y = x W^T + b, x [B, in].
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, Rng& rng, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
};

// 2-D convolution over NCHW input, square kernel.
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, Rng& rng, int64_t stride = 1,
         int64_t padding = 0, bool bias = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  int64_t stride, padding;
};

// Max over kernel x kernel windows (stride defaults to kernel, as in PyTorch).
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int64_t kernel, int64_t stride = 0) : kernel(kernel), stride(stride ? stride : kernel) {}
  Tensor forward(const Tensor& x) override;
  int64_t kernel, stride;
};

// max(x, 0).
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

// [N, ...] -> [N, prod(...)].
class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

}  // namespace sws
