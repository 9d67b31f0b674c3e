// SGD with momentum, as torch.optim.SGD computes it (dampening 0): buf = momentum*buf + g,
// p -= lr*buf (or lr*(g + momentum*buf) with Nesterov), with parameter groups.
#pragma once
#include <optional>

#include "optim/optimizer.h"

namespace sws {

// Options of one group; an unset option takes the optimiser's default.
struct SgdOptions {
  std::optional<double> lr, momentum, weight_decay;  // meanings as in SgdDefaults
};

// The optimiser's defaults.
struct SgdDefaults {
  // Learning rate; momentum factor (0: plain SGD); L2 penalty added to the gradient.
  double lr = 1e-2, momentum = 0.0, weight_decay = 0.0;
  bool nesterov = false;  // Nesterov momentum, for every group (not a per-group option)
};

// A named set of parameters sharing options.
struct SgdGroup {
  std::string name;     // unique among the optimiser's groups
  NamedTensors params;  // parameters that require grad; names key the saved state
  SgdOptions options;   // this group's overrides of the defaults
};

// Per parameter: g = grad + weight_decay p; with momentum buf = momentum buf + g and
// p -= lr buf (Nesterov: p -= lr (g + momentum buf)); without, p -= lr g.
class Sgd : public Optimizer {
 public:
  // Throws sws::Error on an empty or duplicate group name, a parameter in two groups or not
  // requiring grad, or a bad option (lr, momentum or weight_decay < 0; Nesterov without momentum).
  Sgd(std::vector<SgdGroup> groups, SgdDefaults defaults = {});
  // Optimizer's interface; the buffer is "<param>.momentum_buffer" (set to the gradient plus
  // weight decay on a parameter's first update, as PyTorch does).
  void step() override;
  OptimizerState state() const override;
  void load_state(const OptimizerState& state) override;
  // The group called name, for changing its options; throws sws::Error if none.
  SgdGroup& group(const std::string& name);
  // The options a group actually uses.
  SgdDefaults resolved(const SgdGroup& g) const;

 protected:
  std::vector<Tensor> all_parameters() const override;  // every group's parameters, in order

 private:
  void validate() const;
  std::vector<SgdGroup> groups_;
  SgdDefaults defaults_;
  std::vector<Tensor> momentum_buffer_;  // per parameter, allocated on its first update
};

}  // namespace sws
