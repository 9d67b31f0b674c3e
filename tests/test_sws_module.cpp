// A module to a .sws model and back (compress/sws_module.h): bit-exact into a freshly built
// module of the same shape, whatever the architecture's name; a module that does not match the
// file is refused by name.
#include <doctest/doctest.h>

#include "compress/sws_format.h"
#include "compress/sws_module.h"
#include "core/error.h"
#include "core/rng.h"
#include "nn/layers.h"

using namespace sws;

namespace {

struct TwoLayers : Module {
  TwoLayers(Rng& rng, int64_t hidden) {
    fc1 = register_module("fc1", std::make_shared<Linear>(6, hidden, rng));
    fc2 = register_module("fc2", std::make_shared<Linear>(hidden, 3, rng));
  }
  Tensor forward(const Tensor& x) override { return (*fc2)((*fc1)(x)); }
  std::shared_ptr<Linear> fc1, fc2;
};

// Snaps every parameter to one of a few shared values (as post-processing would).
void quantise(Module& m) {
  for (auto& [name, t] : m.named_parameters()) {
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = p[i] > 0.2f ? 0.5f : (p[i] < -0.2f ? -0.25f : 0.0f);
  }
}

}  // namespace

TEST_CASE("a module of one's own goes to a .sws file and back bit-exactly") {
  Rng rng(4), other(5);
  TwoLayers net(rng, 4), fresh(other, 4);
  quantise(net);
  const std::string bytes = encode_sws(to_sws_model(net, "two-layers-6-4-3", {{"note", "test"}}));
  const SwsModel file = decode_sws(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "memory");
  CHECK(file.architecture == "two-layers-6-4-3");
  load_sws_into(fresh, file, "memory");
  const auto a = net.named_parameters(), b = fresh.named_parameters();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].second.to_double_vector() == b[i].second.to_double_vector());
}

TEST_CASE("a module that does not match the file is refused by name") {
  Rng rng(4);
  TwoLayers net(rng, 4), wider(rng, 5);
  quantise(net);
  SwsModel file = to_sws_model(net, "two-layers-6-4-3");
  CHECK_THROWS_WITH_AS(load_sws_into(wider, file, "f.sws"), doctest::Contains("'fc1.weight' has shape [4, 6]"), Error);
  file.tensors.pop_back();  // fc2.bias gone
  CHECK_THROWS_WITH_AS(load_sws_into(net, file, "f.sws"), doctest::Contains("'fc2.bias' is missing"), Error);
  file.tensors.push_back({"fc3.weight", {1}, {0.5f}});
  CHECK_THROWS_WITH_AS(load_sws_into(net, file, "f.sws"), doctest::Contains("'fc3.weight' is not a parameter"), Error);
}
