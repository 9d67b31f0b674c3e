#include "nn/models.h"

#include "core/error.h"
#include "nn/layers.h"

namespace sws {

std::shared_ptr<Sequential> make_lenet300(Rng& rng) {
  auto m = std::make_shared<Sequential>();
  m->add("flatten", std::make_shared<Flatten>())
      .add("fc1", std::make_shared<Linear>(784, 300, rng))
      .add("relu1", std::make_shared<ReLU>())
      .add("fc2", std::make_shared<Linear>(300, 100, rng))
      .add("relu2", std::make_shared<ReLU>())
      .add("fc3", std::make_shared<Linear>(100, 10, rng));
  return m;
}

std::shared_ptr<Sequential> make_lenet5(Rng& rng) {
  auto m = std::make_shared<Sequential>();
  m->add("conv1", std::make_shared<Conv2d>(1, 20, 5, rng))
      .add("pool1", std::make_shared<MaxPool2d>(2))
      .add("conv2", std::make_shared<Conv2d>(20, 50, 5, rng))
      .add("pool2", std::make_shared<MaxPool2d>(2))
      .add("flatten", std::make_shared<Flatten>())
      .add("fc1", std::make_shared<Linear>(800, 500, rng))
      .add("relu1", std::make_shared<ReLU>())
      .add("fc2", std::make_shared<Linear>(500, 10, rng));
  return m;
}

std::shared_ptr<Sequential> make_tutorial_net(Rng& rng) {
  auto m = std::make_shared<Sequential>();
  m->add("conv1", std::make_shared<Conv2d>(1, 25, 5, rng, 2))
      .add("relu1", std::make_shared<ReLU>())
      .add("conv2", std::make_shared<Conv2d>(25, 50, 3, rng, 2))
      .add("relu2", std::make_shared<ReLU>())
      .add("flatten", std::make_shared<Flatten>())
      .add("fc1", std::make_shared<Linear>(1250, 500, rng))
      .add("relu3", std::make_shared<ReLU>())
      .add("fc2", std::make_shared<Linear>(500, 10, rng));
  return m;
}

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names{"lenet300", "lenet5", "tutorial"};
  return names;
}

std::shared_ptr<Sequential> make_model(const std::string& name, uint64_t seed) {
  Rng rng(seed);
  if (name == "lenet300") return make_lenet300(rng);
  if (name == "lenet5") return make_lenet5(rng);
  if (name == "tutorial") return make_tutorial_net(rng);
  throw Error("unknown model '" + name + "': choose lenet300, lenet5 or tutorial");
}

}  // namespace sws
