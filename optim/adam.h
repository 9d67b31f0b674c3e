// Adam (Kingma & Ba 2015) exactly as torch.optim.Adam computes it, with parameter groups:
// "multi-rate Adam", one learning rate (and betas, eps) per group, as soft weight-sharing needs
// for weights, mixture means, log-precisions and mixing logits (PAPER.md, "The loss").
#pragma once
#include <optional>

#include "optim/optimizer.h"

namespace sws {

// Options of one group; an unset option takes the optimiser's default.
struct AdamOptions {
  std::optional<double> lr, beta1, beta2, eps, weight_decay;
};

// The optimiser's defaults (PyTorch's).
struct AdamDefaults {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

struct AdamGroup {
  std::string name;
  NamedTensors params;
  AdamOptions options;
  int64_t step = 0;  // updates made so far
};

class Adam : public Optimizer {
 public:
  // Throws sws::Error on an empty or duplicate group name, a parameter in two groups, or an
  // invalid option (lr < 0, betas outside [0, 1), eps <= 0, weight_decay < 0).
  Adam(std::vector<AdamGroup> groups, AdamDefaults defaults = {});
  void step() override;
  OptimizerState state() const override;
  void load_state(const OptimizerState& state) override;

  // The group called name; throws if none.
  AdamGroup& group(const std::string& name);
  const std::vector<AdamGroup>& groups() const { return groups_; }
  const AdamDefaults& defaults() const { return defaults_; }
  // The options a group actually uses: its own where set, the defaults elsewhere.
  AdamDefaults resolved(const AdamGroup& g) const;

 protected:
  std::vector<Tensor> all_parameters() const override;

 private:
  void validate() const;
  std::vector<AdamGroup> groups_;
  AdamDefaults defaults_;
  // Per parameter (group-major order): first and second moment, allocated on first use.
  std::vector<Tensor> exp_avg_, exp_avg_sq_;
};

}  // namespace sws
