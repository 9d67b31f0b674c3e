// A module and the .sws file (compress/sws_format.h): its parameters as a .sws model, and a .sws
// model read straight back into a module of the same architecture. Any module works, the
// paper's nets and a user's own: the file's architecture name is what tells a reader which code
// builds the module, since the file holds only tensors.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "compress/sws_format.h"
#include "nn/module.h"

namespace sws {

// The parameters of `module` (dotted names, in registration order) as a .sws model named
// `architecture`, with `config` as its key/value pairs. The weights must already be quantised
// (encode_sws refuses a tensor with more than kSwsMaxCodebook distinct non-zero values).
SwsModel to_sws_model(const Module& module, const std::string& architecture,
                      const std::vector<std::pair<std::string, std::string>>& config = {});

// Copies every tensor of `file` into the parameter of `module` with the same name, in place
// (handles held by optimisers follow). Throws sws::Error naming `what` (a path) when a parameter
// is missing from the file, the file has one the module lacks, or a shape differs.
void load_sws_into(Module& module, const SwsModel& file, const std::string& what);

}  // namespace sws
