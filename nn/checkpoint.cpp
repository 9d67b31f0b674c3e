#include "nn/checkpoint.h"

#include <set>

#include "core/error.h"
#include "core/safetensors.h"

namespace sws {

void save_checkpoint(const Module& model, const std::string& path,
                     const std::map<std::string, std::string>& metadata) {
  std::vector<Tensor> host;
  std::vector<SafetensorsView> views;
  const auto params = model.named_parameters();
  host.reserve(params.size());
  for (const auto& [name, p] : params) {
    host.push_back(p.to(Device::cpu()).contiguous().to(DType::F32));
    views.push_back({name, DType::F32, host.back().shape(), host.back().raw_data()});
  }
  write_safetensors(path, views, metadata);
}

std::map<std::string, std::string> load_checkpoint(Module& model, const std::string& path) {
  SafetensorsFile file = read_safetensors(path);
  const auto params = model.named_parameters();
  std::set<std::string> expected;
  for (const auto& [name, p] : params) expected.insert(name);
  // Check everything before changing any parameter.
  for (const SafetensorsEntry& e : file.tensors)
    SWS_CHECK(expected.count(e.name), path + ": unexpected tensor '" + e.name +
                                          "' (is this a checkpoint of another model?)");
  for (const auto& [name, p] : params) {
    const SafetensorsEntry* e = file.find(name);
    SWS_CHECK(e != nullptr, path + ": missing tensor '" + name + "' (is this a checkpoint of another model?)");
    SWS_CHECK(e->dtype == DType::F32, path + ": tensor '" + name + "' is " + dtype_name(e->dtype) + ", expected F32");
    SWS_CHECK(e->shape == p.shape(), path + ": tensor '" + name + "' has shape " + shape_str(e->shape) +
                                         " but the model expects " + shape_str(p.shape()));
  }
  for (const auto& [name, p] : params) {
    const SafetensorsEntry* e = file.find(name);
    Tensor host = Tensor::empty(e->shape, DType::F32);
    std::copy(e->bytes.begin(), e->bytes.end(), static_cast<uint8_t*>(host.raw_data()));
    Tensor target = p;
    target.copy_(host);
  }
  return file.metadata;
}

}  // namespace sws
