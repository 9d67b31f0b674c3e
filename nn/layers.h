// The layers: Linear, Conv2d, MaxPool2d, ReLU, Flatten. PyTorch layouts (Linear weight
// [out, in]; Conv2d weight [out, in, kh, kw]) and PyTorch's default initialisation.
#pragma once
#include "core/rng.h"
#include "nn/module.h"

namespace sws {

// y = x W^T + b, x [B, in].
class Linear : public Module {
 public:
  // Registers "weight" [out, in] and (if bias) "bias" [out], both drawn from rng with PyTorch's
  // default bound (nn/init.h).
  Linear(int64_t in_features, int64_t out_features, Rng& rng, bool bias = true);
  Tensor forward(const Tensor& x) override;  // linear(x, weight, bias): [B, in] -> [B, out]
  Tensor weight, bias;  // handles to the parameters; bias undefined without one
};

// 2-D convolution over NCHW input, square kernel.
class Conv2d : public Module {
 public:
  // Registers "weight" [out, in, kernel, kernel] and (if bias) "bias" [out], drawn from rng with
  // PyTorch's default bound (nn/init.h).
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel, Rng& rng, int64_t stride = 1,
         int64_t padding = 0, bool bias = true);
  Tensor forward(const Tensor& x) override;  // conv2d(x, weight, bias, stride, padding)
  Tensor weight, bias;      // handles to the parameters; bias undefined without one
  int64_t stride, padding;  // in pixels; zero padding on every side
};

// Max over kernel x kernel windows (stride defaults to kernel, as in PyTorch).
class MaxPool2d : public Module {
 public:
  // stride 0 means stride = kernel.
  explicit MaxPool2d(int64_t kernel, int64_t stride = 0) : kernel(kernel), stride(stride ? stride : kernel) {}
  Tensor forward(const Tensor& x) override;  // max_pool2d(x, kernel, stride)
  int64_t kernel, stride;  // window side and step, in pixels
};

// max(x, 0).
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;  // relu(x); no parameters
};

// [N, ...] -> [N, prod(...)].
class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override;  // flatten(x); no parameters
};

}  // namespace sws
