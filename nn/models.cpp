#include "nn/models.h"

#include <algorithm>

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

std::shared_ptr<Sequential> make_mlp(const std::vector<int64_t>& sizes, Rng& rng) {
  SWS_CHECK(sizes.size() >= 2, "an MLP needs at least two layer sizes (inputs and outputs)");
  for (int64_t n : sizes) SWS_CHECK(n >= 1, "an MLP's layer sizes must be at least 1, got " + std::to_string(n));
  auto m = std::make_shared<Sequential>();
  m->add("flatten", std::make_shared<Flatten>());
  for (size_t i = 1; i < sizes.size(); ++i) {
    m->add("fc" + std::to_string(i), std::make_shared<Linear>(sizes[i - 1], sizes[i], rng));
    if (i + 1 < sizes.size()) m->add("relu" + std::to_string(i), std::make_shared<ReLU>());
  }
  return m;
}

namespace {

constexpr const char* kMlpPrefix = "mlp:";

// "mlp:784-128-64-10" -> {784, 128, 64, 10}; empty when the text after the prefix is malformed.
std::vector<int64_t> mlp_sizes(const std::string& name) {
  std::vector<int64_t> sizes;
  const std::string spec = name.substr(std::string(kMlpPrefix).size());
  size_t at = 0;
  while (at <= spec.size()) {
    const size_t end = std::min(spec.find('-', at), spec.size());
    const std::string part = spec.substr(at, end - at);
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos) return {};
    sizes.push_back(std::stoll(part));
    at = end + 1;
  }
  return sizes;
}

bool is_mlp_name(const std::string& name) { return name.rfind(kMlpPrefix, 0) == 0; }

}  // namespace

std::string model_name_problem(const std::string& name) {
  for (const std::string& known : model_names())
    if (known == name) return "";
  if (is_mlp_name(name)) {
    const std::vector<int64_t> sizes = mlp_sizes(name);
    bool positive = sizes.size() >= 2, small = true;
    for (int64_t n : sizes) positive = positive && n >= 1, small = small && n <= 65536;
    if (positive && small) return "";
    if (positive)
      return "model '" + name + "': a layer size above 65536 (this is a guard against typos; build larger "
             "nets in code)";
    return "malformed model '" + name + "': an MLP is given by two or more layer sizes of at least 1 joined by '-', "
           "for example mlp:784-128-64-10";
  }
  return "unknown model '" + name + "': choose lenet300, lenet5, tutorial or a dense net by its layer sizes "
         "(mlp:784-128-64-10)";
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
  const std::string problem = model_name_problem(name);
  if (!problem.empty()) throw Error(problem);
  return make_mlp(mlp_sizes(name), rng);
}

}  // namespace sws
