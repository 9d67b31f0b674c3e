// End to end on real digits: a few hundred MNIST images must clearly cut the loss.
#include <doctest/doctest.h>

#include <filesystem>

#include "autograd/ops.h"
#include "core/error.h"
#include "core/rng.h"
#include "nn/dataset.h"
#include "nn/models.h"
#include "optim/adam.h"

using namespace sws;

TEST_CASE("pretraining LeNet-5 on 512 real MNIST images cuts the loss (slow)") {
  const std::string dir = SWS_MNIST_DIR;
  REQUIRE_MESSAGE(std::filesystem::exists(dir), "MNIST not found in " << dir << ": run scripts/fetch-mnist.sh");
  const Mnist mnist = load_mnist(dir);
  const Dataset train = make_dataset(mnist.train, 512);
  const Dataset test = make_dataset(mnist.test, 1000);
  auto model = make_model("lenet5", 1);
  Adam adam({{"weights", model->named_parameters(), {}}}, AdamDefaults{1e-3});
  Rng rng(7);
  const int64_t batch = 32;
  Tensor x = Tensor::empty({batch, 1, 28, 28}), y = Tensor::empty({batch}, DType::I32);
  auto epoch_loss = [&](bool learn) {
    const std::vector<int64_t> order = rng.permutation(train.size());
    double total = 0;
    for (int64_t s = 0; s < train.size(); s += batch) {
      gather_batch(train, order, s, batch, x, y);
      adam.zero_grad();
      Tensor loss = cross_entropy((*model)(x), y);
      total += loss.item();
      if (learn) {
        loss.backward();
        adam.step();
      }
    }
    return total / static_cast<double>(train.size() / batch);
  };
  const double before = epoch_loss(false);
  const double accuracy_before = evaluate_accuracy(*model, test);
  for (int e = 0; e < 4; ++e) epoch_loss(true);
  const double after = epoch_loss(false);
  const double accuracy_after = evaluate_accuracy(*model, test);
  MESSAGE("loss " << before << " -> " << after << ", held-out accuracy " << accuracy_before << " -> " << accuracy_after);
  CHECK(before > 2.0);             // about log(10) at initialisation
  CHECK(after < 0.35 * before);    // clearly learned
  CHECK(accuracy_after > 0.80);    // and generalises to unseen digits
}

TEST_CASE("gather_batch and Rng refuse what they cannot serve") {
  Dataset d{Tensor::zeros({2, 1, 28, 28}), Tensor::zeros({2}, DType::I32)};
  Tensor x = Tensor::empty({2, 1, 28, 28}), y = Tensor::empty({2}, DType::I32);
  CHECK_THROWS_WITH_AS(gather_batch(d, {0, 5}, 0, 2, x, y), doctest::Contains("out of range"), Error);
  CHECK_THROWS_AS(gather_batch(d, {0}, 0, 2, x, y), Error);                    // order too short
  Tensor wrong = Tensor::empty({2, 1, 28, 28}, DType::F64);
  CHECK_THROWS_WITH_AS(gather_batch(d, {0, 1}, 0, 2, wrong, y), doctest::Contains("F32"), Error);
  CHECK_THROWS_AS(gather_batch(Dataset{}, {}, 0, 0, x, y), Error);              // empty dataset
  gather_batch(d, {1, 0}, 0, 2, x, y);
  Rng rng(1);
  CHECK_THROWS_AS(rng.below(0), Error);
  CHECK_THROWS_AS(rng.permutation(-1), Error);
  CHECK(rng.permutation(0).empty());
}
