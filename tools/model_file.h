// The compressed model file on the command line: `sws compress`, `decompress`, `inspect`, and
// loading either a safetensors checkpoint or a .sws file wherever a model is read (`sws eval`).
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "compress/sws_format.h"
#include "nn/sequential.h"

namespace sws {

// The MNIST configuration every .sws file of the sws command records: input 1x28x28, 10 classes
// and the writer.
std::vector<std::pair<std::string, std::string>> mnist_sws_config();

// A model's parameters as a .sws model (architecture = the model's name in nn/models.h), with
// the MNIST configuration (input 1x28x28, 10 classes).
SwsModel mnist_sws_model(const Module& model, const std::string& architecture);

// Builds the architecture named in `file` and fills its parameters; throws sws::Error naming
// `what` if the architecture is not one of nn/models.h (evaluating it needs the model's code) or
// a tensor is missing, unexpected or mis-shaped.
std::shared_ptr<Sequential> from_sws_model(const SwsModel& file, const std::string& what);

// True when the file at `path` starts with the .sws magic.
bool is_sws_file(const std::string& path);

// Loads a model from a .sws file or an sws safetensors checkpoint. `model_name` may be empty:
// the architecture is then read from the file. Sets *name_out to it when given.
std::shared_ptr<Sequential> load_model_file(const std::string& path, const std::string& model_name,
                                            std::string* name_out = nullptr);

// `sws compress INPUT -o OUT`: INPUT is a run folder (its quantized.safetensors) or a quantised
// checkpoint. Refuses a model that is not quantised. Returns the file's size in bytes.
int64_t compress_command(const std::string& input, const std::string& output);

// `sws decompress FILE.sws -o OUT.safetensors`: the dense checkpoint, bit-identical weights, for
// a .sws file of any architecture.
void decompress_command(const std::string& input, const std::string& output);

// `sws inspect FILE.sws [--json]`: per tensor shape, non-zeros, distinct values, bits per
// non-zero for positions and values against their empirical entropy, bytes; totals and rates.
void inspect_command(const std::string& path, bool json);

}  // namespace sws
