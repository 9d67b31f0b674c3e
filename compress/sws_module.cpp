#include "compress/sws_module.h"

#include <set>

#include "core/error.h"

namespace sws {

SwsModel to_sws_model(const Module& module, const std::string& architecture,
                      const std::vector<std::pair<std::string, std::string>>& config) {
  SwsModel m;
  m.architecture = architecture;
  m.config = config;
  for (const auto& [name, t] : module.named_parameters()) m.tensors.push_back({name, t.shape(), t.to_float_vector()});
  return m;
}

void load_sws_into(Module& module, const SwsModel& file, const std::string& what) {
  const auto params = module.named_parameters();
  std::set<std::string> expected;
  for (const auto& [name, t] : params) expected.insert(name);
  for (const SwsTensor& s : file.tensors)
    SWS_CHECK(expected.count(s.name), what + ": tensor '" + s.name + "' is not a parameter of this " +
                                          "module (the file holds a '" + file.architecture + "')");
  for (const auto& [name, t] : params) {
    const SwsTensor* found = nullptr;
    for (const SwsTensor& s : file.tensors)
      if (s.name == name) found = &s;
    SWS_CHECK(found, what + ": parameter '" + name + "' is missing from the file (it holds a '" +
                         file.architecture + "')");
    SWS_CHECK(found->shape == t.shape(), what + ": tensor '" + name + "' has shape " + shape_str(found->shape) +
                                             ", the module's parameter is " + shape_str(t.shape()));
    Tensor target = t;
    target.copy_(Tensor::from_vector(found->values, found->shape, t.device()).to(t.dtype()));
  }
}

}  // namespace sws
