#include "optim/sgd.h"

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/backend.h"
#include "core/error.h"

namespace sws {

using nlohmann::json;

Sgd::Sgd(std::vector<SgdGroup> groups, SgdDefaults defaults) : groups_(std::move(groups)), defaults_(defaults) {
  validate();
  size_t n = 0;
  for (const SgdGroup& g : groups_) n += g.params.size();
  momentum_buffer_.resize(n);
}

SgdDefaults Sgd::resolved(const SgdGroup& g) const {
  SgdDefaults r = defaults_;
  if (g.options.lr) r.lr = *g.options.lr;
  if (g.options.momentum) r.momentum = *g.options.momentum;
  if (g.options.weight_decay) r.weight_decay = *g.options.weight_decay;
  return r;
}

void Sgd::validate() const {
  std::set<std::string> names;
  std::set<const TensorImpl*> seen;
  for (const SgdGroup& g : groups_) {
    SWS_CHECK(!g.name.empty(), "SGD: a parameter group needs a name");
    SWS_CHECK(names.insert(g.name).second, "SGD: two parameter groups named '" + g.name + "'");
    const SgdDefaults r = resolved(g);
    SWS_CHECK(r.lr >= 0 && r.momentum >= 0 && r.weight_decay >= 0,
              "SGD group '" + g.name + "': lr, momentum and weight_decay must be >= 0");
    SWS_CHECK(!r.nesterov || r.momentum > 0, "SGD group '" + g.name + "': Nesterov needs momentum > 0");
    for (const auto& [pname, p] : g.params) {
      SWS_CHECK(p.defined() && p.requires_grad(), "SGD: parameter '" + pname + "' does not require grad");
      SWS_CHECK(seen.insert(p.impl()).second, "SGD: parameter '" + pname + "' is in two groups");
    }
  }
}

SgdGroup& Sgd::group(const std::string& name) {
  for (SgdGroup& g : groups_)
    if (g.name == name) return g;
  throw Error("SGD has no parameter group '" + name + "'");
}

std::vector<Tensor> Sgd::all_parameters() const {
  std::vector<Tensor> out;
  for (const SgdGroup& g : groups_)
    for (const auto& [name, p] : g.params) out.push_back(p);
  return out;
}

void Sgd::step() {
  size_t k = 0;
  for (SgdGroup& g : groups_) {
    const SgdDefaults r = resolved(g);
    for (auto& [name, p] : g.params) {
      const size_t i = k++;
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      // As in PyTorch, a buffer exists only once momentum is used: without momentum the kernel
      // reads no buffer, and the parameter stands in for the missing one.
      const bool first = r.momentum != 0.0 && !momentum_buffer_[i].defined();
      if (first) momentum_buffer_[i] = Tensor::empty_like(p);
      Tensor& buffer = momentum_buffer_[i].defined() ? momentum_buffer_[i] : p;
      backend_for(p.device()).sgd_update(p, grad, buffer, SgdStep{r.lr, r.momentum, r.weight_decay, r.nesterov, first});
    }
  }
}

OptimizerState Sgd::state() const {
  json j{{"type", "sgd"},
         {"defaults", {{"lr", defaults_.lr}, {"momentum", defaults_.momentum},
                       {"weight_decay", defaults_.weight_decay}, {"nesterov", defaults_.nesterov}}},
         {"groups", json::array()}};
  OptimizerState s;
  size_t k = 0;
  for (const SgdGroup& g : groups_) {
    json names = json::array(), options = json::object();
    if (g.options.lr) options["lr"] = *g.options.lr;
    if (g.options.momentum) options["momentum"] = *g.options.momentum;
    if (g.options.weight_decay) options["weight_decay"] = *g.options.weight_decay;
    for (const auto& [name, p] : g.params) {
      names.push_back(name);
      if (momentum_buffer_[k].defined()) s.tensors.emplace_back(name + ".momentum_buffer", momentum_buffer_[k]);
      ++k;
    }
    j["groups"].push_back({{"name", g.name}, {"params", names}, {"options", options}});
  }
  s.json = j.dump();
  return s;
}

void Sgd::load_state(const OptimizerState& state) {
  try {
    const json j = json::parse(state.json);
    SWS_CHECK(j.at("type") == "sgd", "optimizer state is not SGD's");
    const json& d = j.at("defaults");
    SgdDefaults defaults{d.at("lr").get<double>(), d.at("momentum").get<double>(),
                         d.at("weight_decay").get<double>(), d.at("nesterov").get<bool>()};
    const json& groups = j.at("groups");
    SWS_CHECK(groups.size() == groups_.size(), "optimizer state has a different number of groups");
    std::map<std::string, Tensor> tensors(state.tensors.begin(), state.tensors.end());
    std::vector<SgdOptions> options;
    std::vector<Tensor> buffers(momentum_buffer_.size());
    size_t k = 0;
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const SgdGroup& g = groups_[gi];
      const json& sg = groups[gi];
      SWS_CHECK(sg.at("name") == g.name, "group " + std::to_string(gi) + " is not '" + g.name + "' in the state");
      SWS_CHECK(sg.at("params").size() == g.params.size(), "group '" + g.name + "' differs in parameters");
      SgdOptions o;
      const json& so = sg.at("options");
      if (so.contains("lr")) o.lr = so["lr"].get<double>();
      if (so.contains("momentum")) o.momentum = so["momentum"].get<double>();
      if (so.contains("weight_decay")) o.weight_decay = so["weight_decay"].get<double>();
      options.push_back(o);
      for (size_t pi = 0; pi < g.params.size(); ++pi, ++k) {
        const auto& [pname, p] = g.params[pi];
        SWS_CHECK(sg["params"][pi] == pname, "group '" + g.name + "': parameter '" + pname + "' not in the state");
        auto it = tensors.find(pname + ".momentum_buffer");
        if (it == tensors.end()) continue;
        SWS_CHECK(it->second.shape() == p.shape() && it->second.dtype() == p.dtype(),
                  "momentum buffer of '" + pname + "' is " + describe(it->second));
        buffers[k] = it->second.to(p.device()).clone();
      }
    }
    defaults_ = defaults;
    for (size_t gi = 0; gi < groups_.size(); ++gi) groups_[gi].options = options[gi];
    validate();
    momentum_buffer_ = std::move(buffers);
  } catch (const json::exception& e) {
    throw Error(std::string("optimizer state is malformed: ") + e.what());
  }
}

}  // namespace sws
