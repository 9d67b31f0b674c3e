// Sequential: named children applied in order. Names become checkpoint keys ("fc1.weight"),
// like PyTorch's nn.Sequential(OrderedDict(...)).
#pragma once
#include "nn/module.h"

namespace sws {

// Holds no parameters of its own: they are its children's, named "<child>.<param>".
class Sequential : public Module {
 public:
  // Appends a named layer; returns *this for chaining. Throws sws::Error on an empty name, a
  // name with '.', or a duplicate.
  Sequential& add(const std::string& name, std::shared_ptr<Module> layer);
  Tensor forward(const Tensor& x) override;  // each child's forward in the order added
};

}  // namespace sws
