#include "optim/adam.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/backend.h"
#include "core/error.h"

namespace sws {

using nlohmann::json;

namespace {

void check_options(const std::string& where, double lr, double beta1, double beta2, double eps, double wd) {
  SWS_CHECK(lr >= 0, where + ": learning rate must be >= 0, got " + std::to_string(lr));
  SWS_CHECK(beta1 >= 0 && beta1 < 1, where + ": beta1 must be in [0, 1), got " + std::to_string(beta1));
  SWS_CHECK(beta2 >= 0 && beta2 < 1, where + ": beta2 must be in [0, 1), got " + std::to_string(beta2));
  SWS_CHECK(eps > 0, where + ": eps must be > 0, got " + std::to_string(eps));
  SWS_CHECK(wd >= 0, where + ": weight_decay must be >= 0, got " + std::to_string(wd));
}

json options_to_json(const AdamOptions& o) {
  json j = json::object();
  if (o.lr) j["lr"] = *o.lr;
  if (o.beta1) j["beta1"] = *o.beta1;
  if (o.beta2) j["beta2"] = *o.beta2;
  if (o.eps) j["eps"] = *o.eps;
  if (o.weight_decay) j["weight_decay"] = *o.weight_decay;
  return j;
}

AdamOptions options_from_json(const json& j) {
  SWS_CHECK(j.is_object(), "group options must be an object");
  AdamOptions o;
  for (auto& [key, value] : j.items()) {
    SWS_CHECK(value.is_number(), "option '" + key + "' must be a number");
    const double v = value.get<double>();
    if (key == "lr") o.lr = v;
    else if (key == "beta1") o.beta1 = v;
    else if (key == "beta2") o.beta2 = v;
    else if (key == "eps") o.eps = v;
    else if (key == "weight_decay") o.weight_decay = v;
    else throw Error("unknown Adam option '" + key + "'");
  }
  return o;
}

}  // namespace

Adam::Adam(std::vector<AdamGroup> groups, AdamDefaults defaults)
    : groups_(std::move(groups)), defaults_(defaults) {
  validate();
  size_t n = 0;
  for (const AdamGroup& g : groups_) n += g.params.size();
  exp_avg_.resize(n);
  exp_avg_sq_.resize(n);
  param_steps_.assign(n, 0);
}

void Adam::validate() const {
  check_options("Adam defaults", defaults_.lr, defaults_.beta1, defaults_.beta2, defaults_.eps,
                defaults_.weight_decay);
  std::set<std::string> names;
  std::set<const TensorImpl*> seen;
  for (const AdamGroup& g : groups_) {
    SWS_CHECK(!g.name.empty(), "Adam: a parameter group needs a name");
    SWS_CHECK(names.insert(g.name).second, "Adam: two parameter groups named '" + g.name + "'");
    const AdamDefaults r = resolved(g);
    check_options("Adam group '" + g.name + "'", r.lr, r.beta1, r.beta2, r.eps, r.weight_decay);
    for (const auto& [pname, p] : g.params) {
      SWS_CHECK(p.defined() && p.requires_grad(), "Adam group '" + g.name + "': parameter '" + pname +
                                                      "' does not require grad");
      SWS_CHECK(seen.insert(p.impl()).second, "Adam: parameter '" + pname + "' is in two groups");
    }
  }
}

AdamDefaults Adam::resolved(const AdamGroup& g) const {
  AdamDefaults r = defaults_;
  if (g.options.lr) r.lr = *g.options.lr;
  if (g.options.beta1) r.beta1 = *g.options.beta1;
  if (g.options.beta2) r.beta2 = *g.options.beta2;
  if (g.options.eps) r.eps = *g.options.eps;
  if (g.options.weight_decay) r.weight_decay = *g.options.weight_decay;
  return r;
}

AdamGroup& Adam::group(const std::string& name) {
  for (AdamGroup& g : groups_)
    if (g.name == name) return g;
  throw Error("Adam has no parameter group '" + name + "'");
}

std::vector<Tensor> Adam::all_parameters() const {
  std::vector<Tensor> out;
  for (const AdamGroup& g : groups_)
    for (const auto& [name, p] : g.params) out.push_back(p);
  return out;
}

void Adam::step() {
  // Every parameter with a gradient goes to its device's backend in one adam_update_many call
  // (one fused kernel launch on a GPU), in group-major order, as the per-tensor loop did.
  std::vector<std::pair<Device, std::vector<AdamUpdate>>> per_device;
  size_t k = 0;
  for (AdamGroup& g : groups_) {
    const AdamDefaults r = resolved(g);
    ++g.step;
    for (auto& [name, p] : g.params) {
      const size_t i = k++;
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      const AdamStep s{r.lr, r.beta1, r.beta2, r.eps, r.weight_decay, ++param_steps_[i]};
      if (!exp_avg_[i].defined()) {
        exp_avg_[i] = Tensor::zeros_like(p);
        exp_avg_sq_[i] = Tensor::zeros_like(p);
      }
      auto slot = std::find_if(per_device.begin(), per_device.end(),
                               [&](const auto& d) { return d.first == p.device(); });
      if (slot == per_device.end())
        slot = per_device.insert(per_device.end(), {p.device(), std::vector<AdamUpdate>{}});
      slot->second.push_back(AdamUpdate{p, grad, exp_avg_[i], exp_avg_sq_[i], s});
    }
  }
  for (const auto& [device, updates] : per_device) backend_for(device).adam_update_many(updates);
}

OptimizerState Adam::state() const {
  json j;
  j["type"] = "adam";
  j["defaults"] = {{"lr", defaults_.lr}, {"beta1", defaults_.beta1}, {"beta2", defaults_.beta2},
                   {"eps", defaults_.eps}, {"weight_decay", defaults_.weight_decay}};
  j["groups"] = json::array();
  OptimizerState s;
  size_t k = 0;
  for (const AdamGroup& g : groups_) {
    json names = json::array(), param_steps = json::array();
    for (const auto& [name, p] : g.params) {
      names.push_back(name);
      const size_t i = k++;
      param_steps.push_back(param_steps_[i]);
      if (exp_avg_[i].defined()) {
        s.tensors.emplace_back(name + ".exp_avg", exp_avg_[i]);
        s.tensors.emplace_back(name + ".exp_avg_sq", exp_avg_sq_[i]);
      }
    }
    j["groups"].push_back({{"name", g.name}, {"params", names}, {"options", options_to_json(g.options)},
                           {"step", g.step}, {"param_steps", param_steps}});
  }
  s.json = j.dump();
  return s;
}

void Adam::load_state(const OptimizerState& state) {
  json j;
  try {
    j = json::parse(state.json);
  } catch (const json::exception& e) {
    throw Error(std::string("optimizer state is not valid JSON: ") + e.what());
  }
  try {
    SWS_CHECK(j.value("type", "") == "adam", "optimizer state is not Adam's (type '" +
                                                 j.value("type", std::string("?")) + "')");
    const json& d = j.at("defaults");
    AdamDefaults defaults{d.at("lr").get<double>(), d.at("beta1").get<double>(), d.at("beta2").get<double>(),
                          d.at("eps").get<double>(), d.at("weight_decay").get<double>()};
    const json& groups = j.at("groups");
    SWS_CHECK(groups.is_array() && groups.size() == groups_.size(),
              "optimizer state has " + std::to_string(groups.size()) + " groups, this optimizer " +
                  std::to_string(groups_.size()));
    std::map<std::string, Tensor> tensors(state.tensors.begin(), state.tensors.end());
    // Validate everything first, then apply, so that a bad state leaves the optimiser untouched.
    std::vector<AdamOptions> options;
    std::vector<int64_t> steps;
    std::vector<Tensor> avg(exp_avg_.size()), avg_sq(exp_avg_.size());
    std::vector<int64_t> param_steps(exp_avg_.size(), 0);
    size_t k = 0;
    for (size_t gi = 0; gi < groups_.size(); ++gi) {
      const AdamGroup& g = groups_[gi];
      const json& sg = groups[gi];
      SWS_CHECK(sg.at("name").get<std::string>() == g.name, "group " + std::to_string(gi) + " is '" +
                sg.at("name").get<std::string>() + "' in the state but '" + g.name + "' here");
      const json& names = sg.at("params");
      SWS_CHECK(names.is_array() && names.size() == g.params.size(),
                "group '" + g.name + "' has a different number of parameters in the state");
      options.push_back(options_from_json(sg.at("options")));
      steps.push_back(sg.at("step").get<int64_t>());
      SWS_CHECK(steps.back() >= 0, "group '" + g.name + "' has a negative step count");
      // Per-parameter step counts; a state written before they existed counts the group's steps
      // for every parameter with moments (the same whenever each had a gradient in every step).
      const json* saved_steps = sg.contains("param_steps") ? &sg.at("param_steps") : nullptr;
      SWS_CHECK(!saved_steps || (saved_steps->is_array() && saved_steps->size() == g.params.size()),
                "group '" + g.name + "': param_steps does not list one count per parameter");
      for (size_t pi = 0; pi < g.params.size(); ++pi, ++k) {
        const auto& [pname, p] = g.params[pi];
        SWS_CHECK(names[pi].get<std::string>() == pname, "group '" + g.name + "': parameter " +
                  std::to_string(pi) + " is '" + names[pi].get<std::string>() + "' in the state but '" +
                  pname + "' here");
        auto a = tensors.find(pname + ".exp_avg"), b = tensors.find(pname + ".exp_avg_sq");
        SWS_CHECK((a == tensors.end()) == (b == tensors.end()),
                  "parameter '" + pname + "' has only one of exp_avg and exp_avg_sq");
        const bool has_moments = a != tensors.end();
        param_steps[k] = saved_steps ? (*saved_steps)[pi].get<int64_t>() : (has_moments ? steps.back() : 0);
        SWS_CHECK(param_steps[k] >= 0 && param_steps[k] <= steps.back(),
                  "parameter '" + pname + "' has " + std::to_string(param_steps[k]) +
                      " updates in the state, outside its group's 0.." + std::to_string(steps.back()));
        SWS_CHECK((param_steps[k] > 0) == has_moments,
                  "parameter '" + pname + "' has " + std::to_string(param_steps[k]) +
                      " updates in the state" + (has_moments ? " but moments" : " but no moments"));
        if (!has_moments) continue;
        for (const Tensor& t : {a->second, b->second})
          SWS_CHECK(t.shape() == p.shape() && t.dtype() == p.dtype(),
                    "state of '" + pname + "' is " + describe(t) + " but the parameter is " + describe(p));
        avg[k] = a->second.to(p.device()).clone();
        avg_sq[k] = b->second.to(p.device()).clone();
      }
    }
    AdamDefaults saved_defaults = defaults_;
    std::vector<AdamOptions> saved_options;
    for (const AdamGroup& g : groups_) saved_options.push_back(g.options);
    defaults_ = defaults;
    for (size_t gi = 0; gi < groups_.size(); ++gi) groups_[gi].options = options[gi];
    try {
      validate();
    } catch (...) {
      defaults_ = saved_defaults;
      for (size_t gi = 0; gi < groups_.size(); ++gi) groups_[gi].options = saved_options[gi];
      throw;
    }
    for (size_t gi = 0; gi < groups_.size(); ++gi) groups_[gi].step = steps[gi];
    exp_avg_ = std::move(avg);
    exp_avg_sq_ = std::move(avg_sq);
    param_steps_ = std::move(param_steps);
  } catch (const json::exception& e) {
    throw Error(std::string("optimizer state is malformed: ") + e.what());
  }
}

}  // namespace sws
