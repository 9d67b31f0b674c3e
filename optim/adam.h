// Adam (Kingma & Ba 2015) exactly as torch.optim.Adam computes it, with parameter groups:
// "multi-rate Adam", one learning rate (and betas, eps) per group, as soft weight-sharing needs
// for weights, mixture means, log-precisions and mixing logits (PAPER.md, "The loss").
#pragma once
#include <optional>

#include "optim/optimizer.h"

namespace sws {

// Options of one group; an unset option takes the optimiser's default.
struct AdamOptions {
  std::optional<double> lr, beta1, beta2, eps, weight_decay;  // meanings as in AdamDefaults
};

// The optimiser's defaults (PyTorch's).
struct AdamDefaults {
  // Learning rate; decay rates of the first and second moment averages; the denominator's
  // epsilon (added to sqrt(v_hat)); L2 penalty added to the gradient (coupled, not AdamW).
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

// A named set of parameters sharing options and a step count.
struct AdamGroup {
  std::string name;     // unique among the optimiser's groups ("weights", "means", ...)
  NamedTensors params;  // parameters that require grad; names key the saved state
  AdamOptions options;  // this group's overrides of the defaults
  int64_t step = 0;     // step() calls so far (bias correction counts per parameter: see Adam)
};

// Per parameter: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
// p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), with g = grad + weight_decay p and t
// the number of updates this parameter has had (a step in which it has no gradient skips it and
// does not count, as in PyTorch).
class Adam : public Optimizer {
 public:
  // Throws sws::Error on an empty or duplicate group name, a parameter in two groups, or an
  // invalid option (lr < 0, betas outside [0, 1), eps <= 0, weight_decay < 0).
  Adam(std::vector<AdamGroup> groups, AdamDefaults defaults = {});
  // Optimizer's interface; buffers are "<param>.exp_avg" and "<param>.exp_avg_sq".
  void step() override;
  OptimizerState state() const override;
  void load_state(const OptimizerState& state) override;

  // The group called name, for changing its options (e.g. a learning-rate schedule); throws
  // sws::Error if none. New options are not validated.
  AdamGroup& group(const std::string& name);
  const std::vector<AdamGroup>& groups() const { return groups_; }  // in construction order
  const AdamDefaults& defaults() const { return defaults_; }        // as given (or loaded)
  // The options a group actually uses: its own where set, the defaults elsewhere.
  AdamDefaults resolved(const AdamGroup& g) const;

 protected:
  std::vector<Tensor> all_parameters() const override;  // every group's parameters, in order

 private:
  void validate() const;
  std::vector<AdamGroup> groups_;
  AdamDefaults defaults_;
  // Per parameter (group-major order): first and second moment, allocated on first use, and
  // the updates applied so far (t above; PyTorch's state['step']).
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
  std::vector<int64_t> param_steps_;
};

}  // namespace sws
