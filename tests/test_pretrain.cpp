// End to end on real digits: a few hundred MNIST images must clearly cut the loss.
#include <doctest/doctest.h>

#include <filesystem>

#include "autograd/ops.h"
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
