#include "optim/optimizer.h"

#include "core/error.h"
#include "core/safetensors.h"

namespace sws {

void Optimizer::zero_grad() {
  for (Tensor& p : all_parameters())
    if (p.grad().defined()) p.grad().fill_(0.0);
}

void Optimizer::save(const std::string& path) const {
  OptimizerState s = state();
  std::vector<Tensor> host;  // keeps CPU copies alive while writing
  std::vector<SafetensorsView> views;
  for (auto& [name, t] : s.tensors) {
    host.push_back(t.to(Device::cpu()).contiguous());
    views.push_back({name, host.back().dtype(), host.back().shape(), host.back().raw_data()});
  }
  write_safetensors(path, views, {{"sws.optimizer", s.json}});
}

void Optimizer::load(const std::string& path) {
  SafetensorsFile file = read_safetensors(path);
  auto it = file.metadata.find("sws.optimizer");
  SWS_CHECK(it != file.metadata.end(),
            path + ": not an optimizer state file (no 'sws.optimizer' metadata)");
  OptimizerState s;
  s.json = it->second;
  for (const SafetensorsEntry& e : file.tensors) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    std::copy(e.bytes.begin(), e.bytes.end(), static_cast<uint8_t*>(t.raw_data()));
    s.tensors.emplace_back(e.name, t);
  }
  try {
    load_state(s);
  } catch (const Error& err) {
    throw Error(path + ": " + err.what());
  }
}

}  // namespace sws
