// Removing dead units after quantisation (issue 16), exactly, in place. Between two weight
// layers of a Sequential (Linear or Conv2d) joined only by ReLU, MaxPool2d and Flatten:
//  - a unit (a row of a Linear, an output channel of a Conv2d) whose outputs no weight of the
//    next layer reads is dead: its weights and bias become 0;
//  - a unit with no non-zero incoming weight outputs a constant, its bias (through the ReLU
//    when there is one); when that constant is 0 (no bias, a zero bias, or a negative one
//    before a ReLU) the next layer's weights that read it become 0. A non-zero constant is
//    kept: folding it into the next layer's bias would give that bias up to one new value per
//    output, off the shared codebook (more bytes than the weights it frees, and possibly more
//    distinct values than a .sws tensor may hold).
// The network computes exactly the same function; the zeros cost almost nothing in a .sws file,
// and shapes do not change, so decoding needs nothing new.
#pragma once
#include <cstdint>

#include <nlohmann/json.hpp>

#include "nn/sequential.h"

namespace sws {

// What remove_dead_units changed.
struct DeadUnitsResult {
  int64_t dead_out = 0, dead_in = 0;   // units without readers; units without inputs (output 0)
  int64_t weights_zeroed = 0;          // non-zero weights and biases set to 0
  int64_t constant_kept = 0;           // units without inputs whose constant output is not 0
  nlohmann::json to_json() const;      // as stored in metrics.json
};

// Repeats until nothing changes (removing one unit can leave another without inputs or
// readers). Layers it does not know (anything but Linear, Conv2d, ReLU, MaxPool2d, Flatten)
// end a chain: units are only removed between two weight layers it can see through. Needs
// contiguous F32 parameters on the CPU (else sws::Error).
DeadUnitsResult remove_dead_units(Sequential& model);

}  // namespace sws
