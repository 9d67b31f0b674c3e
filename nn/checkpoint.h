// Model checkpoints in the safetensors format, keyed by named_parameters() names, with the
// layouts of the equivalent PyTorch module: safetensors.torch.load_file + load_state_dict work.
#pragma once
#include <map>
#include <string>

#include "nn/module.h"

namespace sws {

// Writes every parameter under its named_parameters() name (converted to F32, copied to the
// host) and the metadata to `path` atomically; throws sws::Error if the file cannot be written.
void save_checkpoint(const Module& model, const std::string& path,
                     const std::map<std::string, std::string>& metadata = {});

// Loads a checkpoint into the model's parameters in place (converted to each parameter's dtype
// and device). The file must hold exactly the model's parameter names with the same shapes and
// dtype F32; otherwise sws::Error says what is missing, unexpected or mis-shaped (for example a
// checkpoint of another model), and no parameter has changed. Returns the file's metadata.
std::map<std::string, std::string> load_checkpoint(Module& model, const std::string& path);

}  // namespace sws
