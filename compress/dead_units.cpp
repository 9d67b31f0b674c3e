#include "compress/dead_units.h"

#include <algorithm>
#include <memory>
#include <set>
#include <vector>

#include "core/error.h"
#include "nn/layers.h"

namespace sws {

nlohmann::json DeadUnitsResult::to_json() const {
  return {{"dead_out", dead_out}, {"dead_in", dead_in}, {"weights_zeroed", weights_zeroed},
          {"constant_kept", constant_kept}};
}

namespace {

// A weight layer seen as units: rows of a Linear, output channels of a Conv2d.
struct WeightLayer {
  Tensor weight, bias;   // bias undefined without one
  int64_t units = 0;     // outputs
  int64_t fan_in = 0;    // weights per unit
  bool conv = false;
  int64_t padding = 0;
};

// Between two weight layers: what the ops in between do to a constant unit output.
struct Link {
  size_t from = 0, to = 0;  // indices into the weight layers
  bool relu = false;
};

float* data(Tensor& t) {
  SWS_CHECK(t.dtype() == DType::F32 && t.device().is_cpu() && t.is_contiguous(),
            "removing dead units needs contiguous F32 parameters on the CPU");
  return t.data<float>();
}

}  // namespace

DeadUnitsResult remove_dead_units(Sequential& model) {
  std::vector<WeightLayer> layers;
  std::vector<Link> links;
  bool open = false, relu = false;  // a chain from the last weight layer is open; a ReLU on it
  for (const auto& [name, child] : model.children()) {
    Module* m = child.get();
    WeightLayer w;
    if (auto* l = dynamic_cast<Linear*>(m)) {
      w.weight = l->weight, w.bias = l->bias, w.units = l->weight.size(0), w.fan_in = l->weight.size(1);
    } else if (auto* c = dynamic_cast<Conv2d*>(m)) {
      w.weight = c->weight, w.bias = c->bias, w.units = c->weight.size(0);
      w.fan_in = c->weight.numel() / w.units, w.conv = true, w.padding = c->padding;
    } else if (dynamic_cast<ReLU*>(m)) {
      relu = true;
      continue;
    } else if (dynamic_cast<MaxPool2d*>(m) || dynamic_cast<Flatten*>(m)) {
      continue;
    } else {
      open = false;  // an op this does not see through ends the chain
      continue;
    }
    if (open) links.push_back({layers.size() - 1, layers.size(), relu});
    layers.push_back(w);
    open = true, relu = false;
  }
  DeadUnitsResult r;
  std::vector<std::set<int64_t>> constant_counted(layers.size());
  for (bool changed = true; changed;) {
    changed = false;
    for (const Link& link : links) {
      WeightLayer& a = layers[link.from];
      WeightLayer& b = layers[link.to];
      // The next layer's inputs per unit of a: 1 (Linear after Linear), a conv's channel, or the
      // unit's spatial positions after Flatten (Linear after Conv2d).
      const int64_t in_channels = b.conv ? b.weight.size(1) : b.fan_in;
      if (in_channels % a.units != 0 || (b.conv && in_channels != a.units)) continue;
      const int64_t per_unit = b.conv ? b.weight.size(2) * b.weight.size(3) : in_channels / a.units;
      const int64_t b_row = b.conv ? in_channels * per_unit : b.fan_in;  // weights per output of b
      float* wa = data(a.weight);
      float* ba = a.bias.defined() ? data(a.bias) : nullptr;
      float* wb = data(b.weight);
      auto reads = [&](int64_t u, auto&& visit) {  // every weight of b that reads unit u
        for (int64_t o = 0; o < b.units; ++o)
          for (int64_t s = 0; s < per_unit; ++s) visit(o, wb[o * b_row + u * per_unit + s]);
      };
      for (int64_t u = 0; u < a.units; ++u) {
        bool read = false, fed = false, alive_bias = ba && ba[u] != 0.0f;
        reads(u, [&](int64_t, float& w) { read = read || w != 0.0f; });
        for (int64_t i = 0; i < a.fan_in; ++i) fed = fed || wa[u * a.fan_in + i] != 0.0f;
        if (!read && (fed || alive_bias)) {  // nobody reads it: it goes, with its bias
          for (int64_t i = 0; i < a.fan_in; ++i) r.weights_zeroed += wa[u * a.fan_in + i] != 0.0f, wa[u * a.fan_in + i] = 0;
          if (alive_bias) ++r.weights_zeroed, ba[u] = 0;
          ++r.dead_out, changed = true;
        } else if (read && !fed) {  // a constant output: its bias, through the ReLU if there is one
          const float c = ba ? (link.relu ? std::max(ba[u], 0.0f) : ba[u]) : 0.0f;
          if (c != 0.0f) {  // kept: folding it would put new values, off the codebook, into b's bias
            if (!constant_counted[link.from].count(u)) constant_counted[link.from].insert(u), ++r.constant_kept;
            continue;
          }
          reads(u, [&](int64_t, float& w) { r.weights_zeroed += w != 0.0f, w = 0; });
          if (alive_bias) ++r.weights_zeroed, ba[u] = 0;
          ++r.dead_in, changed = true;
        }
      }
    }
  }
  return r;
}

}  // namespace sws
