// The optimiser base: parameters in named groups, each with its own options where set and the
// optimiser's defaults where not (the method needs four groups at different rates). Its state —
// options as given, step counts and per-parameter buffers — can be saved and restored.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace sws {

// An optimiser's complete state: a JSON document (type, defaults, groups with their options,
// parameter names and step counts) and the buffers, named "<param>.<buffer>".
struct OptimizerState {
  std::string json;      // {"type": "adam" | "sgd", "defaults": {..}, "groups": [..]}
  NamedTensors tensors;  // per-parameter buffers, only those allocated so far
};

// Holds handles to the parameters it updates; step() changes them in place.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of every parameter that has a defined gradient (others are left alone).
  virtual void step() = 0;
  // Zeroes every defined parameter gradient (keeps the buffers).
  void zero_grad();
  // A copy-free snapshot of the state (tensors are handles to the live buffers).
  virtual OptimizerState state() const = 0;
  // Restores a state saved from an optimiser of the same type over the same groups and parameter
  // names; throws sws::Error naming the mismatch otherwise. Defaults and group options are
  // restored too; buffers are copied to each parameter's device.
  virtual void load_state(const OptimizerState& state) = 0;
  // Writes state() to a safetensors file atomically (the JSON goes in its metadata under
  // "sws.optimizer"; buffers are copied to the host).
  void save(const std::string& path) const;
  // Reads a file written by save() and calls load_state(); errors are prefixed with `path`.
  void load(const std::string& path);
  // Every parameter this optimiser updates (handles), in group order.
  std::vector<Tensor> parameters() const { return all_parameters(); }

 protected:
  // Every parameter handled, in group order, for zero_grad().
  virtual std::vector<Tensor> all_parameters() const = 0;
};

}  // namespace sws
