// Module: the base of every layer and model. It owns named parameters and named child modules;
// named_parameters() walks them depth-first giving dotted names ("conv1.weight") that are the
// keys of checkpoints (equal to PyTorch's state_dict keys) and the way to pick parameter groups.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace sws {

// A subclass registers its parameters and children in its constructor and implements forward().
class Module {
 public:
  virtual ~Module() = default;
  // The layer's computation.
  virtual Tensor forward(const Tensor& x) = 0;
  // forward(x); an sws::Error raised inside names this module's path ("in module 'fc2': ...")
  // when the module is a registered child (the innermost module that failed names itself).
  Tensor operator()(const Tensor& x);
  // The dotted path under which this module is registered in its model ("" for the model itself).
  const std::string& path() const { return path_; }

  // Every parameter of this module and its children, in registration order, with dotted names.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;  // the same tensors (handles), without names
  // The parameter with this dotted name; throws sws::Error if there is none.
  Tensor parameter(const std::string& name) const;
  // Total number of parameter elements.
  int64_t parameter_count() const;
  // Direct children with their names.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }
  // Sets every defined parameter gradient to zero (keeps the buffers: no allocation next step).
  void zero_grad();
  // Moves every parameter to a device in place: the storage under each parameter's TensorImpl is
  // swapped, so existing handles (layers, optimisers) follow; gradients are dropped.
  void to(Device device);

 protected:
  // Adds a parameter (it is marked requires_grad) and returns a handle to it. Throws sws::Error
  // on an empty name, a name with '.', or one already registered here.
  Tensor register_parameter(const std::string& name, Tensor value);
  // Adds a child module whose parameters appear under "name."; returns it, typed.
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }
  // The same, untyped; throws sws::Error on an empty name, a name with '.', or a duplicate.
  void add_child(const std::string& name, std::shared_ptr<Module> module);

 private:
  void set_path(const std::string& path);  // this module's path and, below it, its children's
  std::string path_;
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace sws
