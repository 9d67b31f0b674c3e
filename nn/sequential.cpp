#include "nn/sequential.h"

namespace sws {

Sequential& Sequential::add(const std::string& name, std::shared_ptr<Module> layer) {
  add_child(name, std::move(layer));
  return *this;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& [name, layer] : children()) h = (*layer)(h);  // an error names the layer
  return h;
}

}  // namespace sws
