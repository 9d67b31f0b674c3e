#include "nn/module.h"

#include "core/error.h"

namespace sws {

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out(params_.begin(), params_.end());
  for (const auto& [name, child] : children_)
    for (auto& [sub, p] : child->named_parameters()) out.emplace_back(name + "." + sub, p);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, p] : named_parameters()) out.push_back(p);
  return out;
}

Tensor Module::parameter(const std::string& name) const {
  for (auto& [n, p] : named_parameters())
    if (n == name) return p;
  throw Error("no parameter named '" + name + "'");
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, p] : named_parameters()) n += p.numel();
  return n;
}

void Module::zero_grad() {
  for (auto& [name, p] : named_parameters())
    if (p.grad().defined()) p.grad().fill_(0.0);
}

void Module::to(Device device) {
  for (auto& [name, p] : params_) {
    if (p.device() == device) continue;
    // Swap the storage under the same TensorImpl, so that every handle to the parameter
    // (layers, optimisers) sees it on the new device.
    Tensor moved = p.contiguous().to(device);
    p.impl()->storage = moved.impl()->storage;
    p.impl()->strides = moved.strides();
    p.impl()->offset = moved.impl()->offset;
    p.impl()->grad.reset();
  }
  for (auto& [name, child] : children_) child->to(device);
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  SWS_CHECK(!name.empty() && name.find('.') == std::string::npos,
            "parameter name '" + name + "' must be non-empty and contain no '.'");
  for (auto& [n, p] : params_) SWS_CHECK(n != name, "parameter '" + name + "' registered twice");
  value.set_requires_grad(true);
  params_.emplace_back(name, value);
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  SWS_CHECK(!name.empty() && name.find('.') == std::string::npos,
            "module name '" + name + "' must be non-empty and contain no '.'");
  for (auto& [n, m] : children_) SWS_CHECK(n != name, "module '" + name + "' registered twice");
  module->set_path(path_.empty() ? name : path_ + "." + name);
  children_.emplace_back(name, std::move(module));
}

void Module::set_path(const std::string& path) {
  path_ = path;
  for (auto& [name, child] : children_) child->set_path(path + "." + name);
}

Tensor Module::operator()(const Tensor& x) {
  if (path_.empty()) return forward(x);
  try {
    return forward(x);
  } catch (const Error& e) {
    const std::string what = e.what();
    if (what.rfind("in module '", 0) == 0) throw;  // a module inside this one has named itself
    throw Error("in module '" + path_ + "': " + what);
  }
}

}  // namespace sws
