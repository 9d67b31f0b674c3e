// SGD with momentum, as torch.optim.SGD computes it (dampening 0): buf = momentum*buf + g,
// p -= lr*buf (or lr*(g + momentum*buf) with Nesterov), with parameter groups.
#pragma once
#include <optional>

#include "optim/optimizer.h"

namespace sws {

// Options of one group; an unset option takes the optimiser's default.
struct SgdOptions {
  std::optional<double> lr, momentum, weight_decay;
};

struct SgdDefaults {
  double lr = 1e-2, momentum = 0.0, weight_decay = 0.0;
  bool nesterov = false;
};

struct SgdGroup {
  std::string name;
  NamedTensors params;
  SgdOptions options;
};

class Sgd : public Optimizer {
 public:
  // Throws sws::Error on bad names or options (lr < 0, momentum < 0, Nesterov without momentum).
  Sgd(std::vector<SgdGroup> groups, SgdDefaults defaults = {});
  void step() override;
  OptimizerState state() const override;
  void load_state(const OptimizerState& state) override;
  SgdGroup& group(const std::string& name);
  // The options a group actually uses.
  SgdDefaults resolved(const SgdGroup& g) const;

 protected:
  std::vector<Tensor> all_parameters() const override;

 private:
  void validate() const;
  std::vector<SgdGroup> groups_;
  SgdDefaults defaults_;
  std::vector<Tensor> momentum_buffer_;  // per parameter, allocated on its first update
};

}  // namespace sws
