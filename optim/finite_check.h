// Stops a run at the step where a NaN or an infinity first appears, naming the stage, epoch,
// step and tensor, so the last good checkpoint (written at the previous epoch's end) stays the
// newest file on disk.
#pragma once
#include <cstdint>
#include <string>

#include "optim/optimizer.h"

namespace sws {

// Throws sws::Error if any gradient (when `gradients`) or value of the named tensors is not
// finite: "<stage> stopped at epoch E, step S: the gradient of fc1.weight holds nan".
void check_finite(const NamedTensors& tensors, bool gradients, const std::string& stage, int64_t epoch,
                  int64_t step, const std::string& hint);

}  // namespace sws
