#include "compress/prior_file.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/safetensors.h"

namespace sws {

void save_prior(const GaussianMixturePrior& prior, const std::string& path) {
  std::vector<Tensor> host;
  std::vector<SafetensorsView> views;
  for (const auto& [name, t] : prior.named_parameters()) {
    host.push_back(t.to(Device::cpu()).contiguous().to(DType::F32));
    views.push_back({name, DType::F32, host.back().shape(), host.back().raw_data()});
  }
  const PriorOptions& o = prior.options();
  nlohmann::json options = {{"components", o.components}, {"pi_zero", o.pi_zero}, {"init", o.init},
                            {"init_range", o.init_range}, {"init_sigma", o.init_sigma},
                            {"alpha_zero", o.alpha_zero}, {"beta_zero", o.beta_zero}, {"alpha", o.alpha},
                            {"beta", o.beta}, {"learn_pi_zero", o.learn_pi_zero},
                            {"pi_zero_concentration", o.pi_zero_concentration}};
  // Written only when set, so that files of runs without it keep their bytes.
  if (o.pi_zero_concentration_per_weight > 0)
    options["pi_zero_concentration_per_weight"] = o.pi_zero_concentration_per_weight;
  write_safetensors(path, views, {{"sws.prior", options.dump()}});
}

std::shared_ptr<GaussianMixturePrior> load_prior(const std::string& path, const std::vector<Tensor>& weights) {
  const SafetensorsFile file = read_safetensors(path);
  auto it = file.metadata.find("sws.prior");
  SWS_CHECK(it != file.metadata.end(), path + ": not a prior file (no 'sws.prior' metadata)");
  PriorOptions o;
  try {
    const auto j = nlohmann::json::parse(it->second);
    o.components = j.at("components").get<int64_t>();
    o.pi_zero = j.at("pi_zero").get<double>();
    o.init = j.at("init").get<std::string>();
    o.init_range = j.at("init_range").get<double>();
    o.init_sigma = j.at("init_sigma").get<double>();
    o.alpha_zero = j.at("alpha_zero").get<double>(), o.beta_zero = j.at("beta_zero").get<double>();
    o.alpha = j.at("alpha").get<double>(), o.beta = j.at("beta").get<double>();
    o.learn_pi_zero = j.value("learn_pi_zero", false);
    o.pi_zero_concentration = j.value("pi_zero_concentration", o.pi_zero_concentration);
    o.pi_zero_concentration_per_weight = j.value("pi_zero_concentration_per_weight", 0.0);
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed prior options: " + e.what());
  }
  auto prior = std::make_shared<GaussianMixturePrior>(o, weights);
  for (auto& [name, t] : prior->named_parameters()) {
    const SafetensorsEntry* e = file.find(name);
    SWS_CHECK(e && e->dtype == DType::F32 && e->shape == t.shape(),
              path + ": missing or mis-shaped tensor '" + name + "' (expected F32" + shape_str(t.shape()) + ")");
    Tensor host = Tensor::empty(e->shape, DType::F32);
    std::copy(e->bytes.begin(), e->bytes.end(), static_cast<uint8_t*>(host.raw_data()));
    Tensor target = t;
    target.copy_(host);
  }
  return prior;
}

}  // namespace sws
