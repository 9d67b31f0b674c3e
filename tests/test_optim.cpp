// Adam and SGD against hand-computed values; group options; state save and restore.
#include <doctest/doctest.h>

#include <cmath>
#include <tuple>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "optim/adam.h"
#include "optim/sgd.h"
#include "temp_dir.h"

using namespace sws;

namespace {

Tensor param(std::vector<double> v) {
  Tensor t = Tensor::from_vector(v, {static_cast<int64_t>(v.size())});
  t.set_requires_grad(true);
  return t;
}

void set_grad(Tensor& p, std::vector<double> g) { p.set_grad(Tensor::from_vector(g, p.shape())); }


}  // namespace

TEST_CASE("Adam with two groups at different rates matches hand-computed steps") {
  Tensor a = param({1.0, -2.0}), b = param({0.5});
  // Group "fast" sets lr; group "slow" sets lr and beta1; everything else inherits the defaults.
  Adam adam({{"fast", {{"a", a}}, {0.1, {}, {}, {}, {}}}, {"slow", {{"b", b}}, {0.01, 0.5, {}, {}, {}}}},
            AdamDefaults{1e-3, 0.9, 0.999, 1e-8, 0.0});
  CHECK(adam.resolved(adam.group("fast")).beta1 == 0.9);
  CHECK(adam.resolved(adam.group("slow")).beta1 == 0.5);
  CHECK(adam.resolved(adam.group("slow")).beta2 == 0.999);

  // Step 1: m = (1-b1) g, v = (1-b2) g^2; bias-corrected m/bc1 = g, v/bc2 = g^2, so the update
  // is lr * g / (|g| + eps): about lr * sign(g) whatever b1 is.
  set_grad(a, {0.3, -4.0});
  set_grad(b, {2.0});
  adam.step();
  auto av = a.to_double_vector();
  CHECK(av[0] == doctest::Approx(1.0 - 0.1 * 0.3 / (0.3 + 1e-8)).epsilon(1e-12));
  CHECK(av[1] == doctest::Approx(-2.0 + 0.1 * 4.0 / (4.0 + 1e-8)).epsilon(1e-12));
  CHECK(b.item() == doctest::Approx(0.5 - 0.01 * 2.0 / (2.0 + 1e-8)).epsilon(1e-12));

  // Step 2 for b with g2 = -1 (b1 = 0.5, b2 = 0.999):
  //   m = 0.5*(0.5*2) + 0.5*(-1) = 0.5 - 0.5 = 0          -> no move at all.
  // and for a[0] with g2 = 0.3 (b1 = 0.9): m = 0.9*0.03 + 0.1*0.3 = 0.057, bc1 = 0.19,
  //   v = 0.999*0.001*0.09 + 0.001*0.09 = 0.00017991, bc2 = 1 - 0.999^2 = 0.001999,
  //   update = 0.1 * (0.057/0.19) / (sqrt(0.00017991/0.001999) + 1e-8) = 0.1 * 0.3 / (0.3 + 1e-8).
  set_grad(a, {0.3, -4.0});
  set_grad(b, {-1.0});
  const double b_before = b.item();
  adam.step();
  CHECK(b.item() == doctest::Approx(b_before).epsilon(1e-12));
  CHECK(a.to_double_vector()[0] == doctest::Approx(av[0] - 0.1 * 0.3 / (0.3 + 1e-8)).epsilon(1e-12));
}

TEST_CASE("Adam counts steps per parameter: one without a gradient is skipped and its count waits") {
  // As in PyTorch: b has no gradient in the first two steps, so its first update (step 3 of the
  // group) is bias-corrected as t = 1, a move of lr * g / (|g| + eps). With the group's count
  // (t = 3) it would move 0.64 lr instead.
  Tensor a = param({1.0}), b = param({2.0});
  Adam adam({{"all", {{"a", a}, {"b", b}}, {}}}, AdamDefaults{0.1, 0.9, 0.999, 1e-8, 0.0});
  for (int s = 0; s < 2; ++s) {
    set_grad(a, {1.0});
    b.set_grad(Tensor());
    adam.step();
  }
  CHECK(b.item() == 2.0);
  set_grad(a, {1.0});
  set_grad(b, {0.5});
  adam.step();
  CHECK(b.item() == doctest::Approx(2.0 - 0.1 * 0.5 / (0.5 + 1e-8)).epsilon(1e-12));
  CHECK(adam.group("all").step == 3);

  // The counts survive a save and load: a copy continues bit-identically.
  sws::testing::TempDir dir("optim-steps");
  adam.save(dir.file("adam.safetensors"));
  Tensor a2 = a.clone(), b2 = b.clone();
  a2.set_requires_grad(true);
  b2.set_requires_grad(true);
  Adam copy({{"all", {{"a", a2}, {"b", b2}}, {}}}, AdamDefaults{0.1, 0.9, 0.999, 1e-8, 0.0});
  copy.load(dir.file("adam.safetensors"));
  for (auto [opt, pa, pb] : {std::tuple{&adam, &a, &b}, std::tuple{&copy, &a2, &b2}}) {
    set_grad(*pa, {-1.0});
    set_grad(*pb, {0.25});
    opt->step();
  }
  CHECK(a.item() == a2.item());
  CHECK(b.item() == b2.item());
}

TEST_CASE("Adam loads a state written before per-parameter counts: moments count the group's steps") {
  Tensor a = param({1.0}), b = param({2.0});
  Adam adam({{"all", {{"a", a}, {"b", b}}, {}}});
  set_grad(a, {1.0});
  b.set_grad(Tensor());
  adam.step();
  adam.step();
  OptimizerState old = adam.state();
  nlohmann::json j = nlohmann::json::parse(old.json);
  for (auto& g : j["groups"]) g.erase("param_steps");
  old.json = j.dump();
  Adam loaded({{"all", {{"a", a}, {"b", b}}, {}}});
  loaded.load_state(old);
  // a (with moments) counts 2, b (none) counts 0: the next states agree.
  CHECK(nlohmann::json::parse(loaded.state().json) == nlohmann::json::parse(adam.state().json));
  // Counts that contradict the moments are refused.
  OptimizerState bad = adam.state();
  j = nlohmann::json::parse(bad.json);
  j["groups"][0]["param_steps"] = {2, 1};
  bad.json = j.dump();
  CHECK_THROWS_WITH(loaded.load_state(bad), doctest::Contains("'b' has 1 updates in the state but no moments"));
}

TEST_CASE("Adam rejects bad groups and options") {
  Tensor a = param({1.0});
  CHECK_THROWS_WITH(Adam({{"w", {{"a", a}}, {-1.0, {}, {}, {}, {}}}}), doctest::Contains("learning rate"));
  CHECK_THROWS_WITH(Adam({{"w", {{"a", a}}, {}}, {"w", {}, {}}}), doctest::Contains("two parameter groups"));
  CHECK_THROWS_WITH(Adam({{"w", {{"a", a}}, {}}, {"v", {{"a2", a}}, {}}}), doctest::Contains("in two groups"));
  CHECK_THROWS_WITH(Adam({{"w", {{"a", a}}, {{}, 1.0, {}, {}, {}}}}), doctest::Contains("beta1"));
}

TEST_CASE("Adam state save and restore continues bit-identically, group options included") {
  auto make = [](Tensor& a, Tensor& b) {
    return Adam({{"weights", {{"a", a}}, {5e-4, {}, {}, {}, {}}}, {"means", {{"b", b}}, {1e-4, {}, 0.99, {}, {}}}});
  };
  Tensor a1 = param({1.0, 2.0, 3.0}), b1 = param({-1.0});
  Adam first = make(a1, b1);
  for (int s = 0; s < 3; ++s) {
    set_grad(a1, {0.1 * s, -0.2, 0.3});
    set_grad(b1, {1.0 + s});
    first.step();
  }
  sws::testing::TempDir dir("optim");
  const std::string path = dir.file("adam.safetensors");
  first.group("means").options.lr = 7e-5;  // a changed option must survive the round trip
  first.save(path);

  Tensor a2 = a1.clone(), b2 = b1.clone();
  a2.set_requires_grad(true);
  b2.set_requires_grad(true);
  Adam second({{"weights", {{"a", a2}}, {}}, {"means", {{"b", b2}}, {}}});  // different options
  second.load(path);
  CHECK(*second.group("means").options.lr == 7e-5);
  CHECK(*second.group("means").options.beta2 == 0.99);
  CHECK_FALSE(second.group("weights").options.beta2.has_value());  // unset stays unset
  CHECK(second.group("weights").step == 3);
  for (Adam* opt : {&first, &second}) {
    Tensor& a = opt == &first ? a1 : a2;
    Tensor& b = opt == &first ? b1 : b2;
    set_grad(a, {0.5, 0.5, -0.5});
    set_grad(b, {-2.0});
    opt->step();
  }
  CHECK(a1.to_double_vector() == a2.to_double_vector());
  CHECK(b1.to_double_vector() == b2.to_double_vector());

  // A state of other parameters is refused and changes nothing.
  Tensor c = param({1.0, 2.0});
  Adam other({{"weights", {{"c", c}}, {}}, {"means", {{"b", b2}}, {}}});
  CHECK_THROWS_WITH(other.load(path), doctest::Contains("parameter 0 is 'a' in the state but 'c' here"));
}

TEST_CASE("SGD without momentum keeps no buffer; momentum switched on later starts from the gradient") {
  Tensor p = param({1.0});
  Sgd sgd({{"all", {{"p", p}}, {}}}, SgdDefaults{0.1, 0.0, 0.0, false});
  set_grad(p, {1.0});
  sgd.step();  // p = 1 - 0.1 = 0.9, no buffer
  CHECK(p.item() == doctest::Approx(0.9));
  CHECK(sgd.state().tensors.empty());  // nothing uninitialised is saved
  sgd.group("all").options.momentum = 0.5;
  set_grad(p, {2.0});
  sgd.step();  // first momentum step: buf = g = 2; p = 0.9 - 0.2 = 0.7
  CHECK(p.item() == doctest::Approx(0.7));
  set_grad(p, {2.0});
  sgd.step();  // buf = 0.5*2 + 2 = 3; p = 0.7 - 0.3 = 0.4
  CHECK(p.item() == doctest::Approx(0.4));
  CHECK(sgd.state().tensors.size() == 1);
}

TEST_CASE("SGD with momentum matches hand-computed steps") {
  Tensor p = param({1.0});
  Sgd sgd({{"all", {{"p", p}}, {}}}, SgdDefaults{0.1, 0.9, 0.0, false});
  set_grad(p, {1.0});
  sgd.step();  // buf = g = 1; p = 1 - 0.1 = 0.9
  CHECK(p.item() == doctest::Approx(0.9));
  set_grad(p, {1.0});
  sgd.step();  // buf = 0.9*1 + 1 = 1.9; p = 0.9 - 0.19 = 0.71
  CHECK(p.item() == doctest::Approx(0.71));
  sws::testing::TempDir dir("optim");
  const std::string path = dir.file("sgd.safetensors");
  sgd.save(path);
  Tensor q = p.clone();
  q.set_requires_grad(true);
  Sgd restored({{"all", {{"p", q}}, {}}}, SgdDefaults{0.1, 0.9, 0.0, false});
  restored.load(path);
  set_grad(p, {1.0});
  set_grad(q, {1.0});
  sgd.step();
  restored.step();  // buf = 0.9*1.9 + 1 = 2.71; p = 0.71 - 0.271 = 0.439
  CHECK(p.item() == doctest::Approx(0.439));
  CHECK(q.item() == p.item());
}
