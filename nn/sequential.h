// Sequential: named children applied in order. Names become checkpoint keys ("fc1.weight"),
// like PyTorch's nn.Sequential(OrderedDict(...)).
#pragma once
#include "nn/module.h"

namespace sws {

class Sequential : public Module {
 public:
  // Appends a named layer; returns *this for chaining.
  Sequential& add(const std::string& name, std::shared_ptr<Module> layer);
  Tensor forward(const Tensor& x) override;
};

}  // namespace sws
