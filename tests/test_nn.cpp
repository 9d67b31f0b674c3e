// Modules, the three models, initialisation and checkpoints.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/ops.h"
#include "core/backend.h"
#include "core/error.h"
#include "optim/adam.h"
#include "core/safetensors.h"
#include "nn/checkpoint.h"
#include "nn/layers.h"
#include "nn/models.h"
#include "temp_dir.h"

using namespace sws;


TEST_CASE("the three models have the paper's parameter counts and PyTorch's names and layouts") {
  CHECK(make_model("lenet300", 0)->parameter_count() == 266610);
  CHECK(make_model("lenet5", 0)->parameter_count() == 431080);
  CHECK(make_model("tutorial", 0)->parameter_count() == 642460);
  auto lenet5 = make_model("lenet5", 0);
  std::vector<std::string> names;
  for (auto& [name, p] : lenet5->named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight",
                                          "fc1.bias", "fc2.weight", "fc2.bias"});
  CHECK(lenet5->parameter("conv2.weight").shape() == Shape{50, 20, 5, 5});
  CHECK(lenet5->parameter("fc1.weight").shape() == Shape{500, 800});
  CHECK_THROWS_WITH(make_model("resnet", 0), doctest::Contains("unknown model 'resnet'"));
}

TEST_CASE("each model maps a batch of images to 10 logits") {
  for (const std::string& name : model_names()) {
    auto m = make_model(name, 3);
    Tensor y = (*m)(Tensor::full({4, 1, 28, 28}, 0.5));
    CHECK(y.shape() == Shape{4, 10});
  }
}

TEST_CASE("default initialisation is PyTorch's uniform(+-1/sqrt(fan_in)) and seeded") {
  Rng rng(5);
  Conv2d conv(20, 50, 5, rng);
  const double bound = 1.0 / std::sqrt(20.0 * 25.0);
  auto w = conv.weight.to_double_vector();
  double lo = 1, hi = -1, mean = 0;
  for (double v : w) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    mean += v / w.size();
  }
  CHECK(lo >= -bound);
  CHECK(hi <= bound);
  CHECK(hi > 0.95 * bound);  // 25,000 draws fill the range
  CHECK(std::fabs(mean) < 0.02 * bound);
  CHECK(make_model("lenet5", 9)->parameter("fc1.weight").to_double_vector() ==
        make_model("lenet5", 9)->parameter("fc1.weight").to_double_vector());
  CHECK(make_model("lenet5", 9)->parameter("fc1.weight").to_double_vector() !=
        make_model("lenet5", 10)->parameter("fc1.weight").to_double_vector());
}

TEST_CASE("checkpoints round-trip bit-exactly and refuse other models") {
  sws::testing::TempDir dir("nn");
  const std::string path = dir.file("ckpt.safetensors");
  auto a = make_model("lenet300", 1);
  save_checkpoint(*a, path, {{"sws.model", "lenet300"}});
  auto b = make_model("lenet300", 2);
  const auto meta = load_checkpoint(*b, path);
  CHECK(meta.at("sws.model") == "lenet300");
  for (auto& [name, p] : a->named_parameters()) CHECK(p.to_double_vector() == b->parameter(name).to_double_vector());

  auto other = make_model("lenet5", 0);
  const auto before = other->parameter("conv1.weight").to_double_vector();
  CHECK_THROWS_WITH(load_checkpoint(*other, path), doctest::Contains("another model"));
  CHECK(other->parameter("conv1.weight").to_double_vector() == before);  // untouched

  // A tensor with the right name but the wrong shape.
  std::vector<float> zeros(10 * 100, 0.f);
  const auto params = a->named_parameters();
  std::vector<Tensor> keep;
  std::vector<SafetensorsView> views;
  for (auto& [name, p] : params) {
    if (name == "fc3.weight") {
      views.push_back({name, DType::F32, {100, 10}, zeros.data()});
    } else {
      keep.push_back(p.contiguous());
      views.push_back({name, DType::F32, p.shape(), keep.back().raw_data()});
    }
  }
  write_safetensors(path, views);
  CHECK_THROWS_WITH(load_checkpoint(*b, path), doctest::Contains("'fc3.weight' has shape [100, 10]"));
}

TEST_CASE("a steady-state training step allocates no new memory from the system") {
  for (const std::string& name : model_names()) {
    auto model = make_model(name, 0);
    Adam adam({{"weights", model->named_parameters(), {}}});
    const Tensor x = Tensor::full({16, 1, 28, 28}, 0.25);
    const Tensor y = Tensor::from_vector(std::vector<int32_t>(16, 3), {16});
    auto step = [&] {
      adam.zero_grad();
      cross_entropy((*model)(x), y).backward();
      adam.step();
    };
    step();
    step();  // warm: gradients, Adam state and the cache now exist
    const size_t before = backend_for(Device::cpu()).memory_stats().system_allocations;
    for (int i = 0; i < 3; ++i) step();
    CAPTURE(name);
    CHECK(backend_for(Device::cpu()).memory_stats().system_allocations == before);
  }
}

namespace {
// A model of one's own: a block (itself two layers) inside a model, called directly.
struct Block : sws::Module {
  explicit Block(sws::Rng& rng) {
    fc1 = register_module("fc1", std::make_shared<sws::Linear>(4, 3, rng));
    fc2 = register_module("fc2", std::make_shared<sws::Linear>(5, 2, rng));  // 3 != 5: a bug
  }
  sws::Tensor forward(const sws::Tensor& x) override { return (*fc2)((*fc1)(x)); }
  std::shared_ptr<sws::Linear> fc1, fc2;
};
struct Outer : sws::Module {
  explicit Outer(sws::Rng& rng) { block = register_module("block", std::make_shared<Block>(rng)); }
  sws::Tensor forward(const sws::Tensor& x) override { return (*block)(x); }
  std::shared_ptr<Block> block;
};
}  // namespace

TEST_CASE("a shape error names the module path that raised it") {
  sws::Rng rng(3);
  auto model = sws::make_model("lenet300", 1);
  CHECK_THROWS_WITH_AS((*model)(sws::Tensor::zeros({2, 100})), doctest::Contains("in module 'fc1': linear: input"),
                       sws::Error);
  Outer outer(rng);
  CHECK(outer.block->fc2->path() == "block.fc2");  // registered before its parent was
  CHECK_THROWS_WITH_AS(outer(sws::Tensor::zeros({2, 4})), doctest::Contains("in module 'block.fc2': linear"),
                       sws::Error);
  CHECK(outer.path().empty());
}
