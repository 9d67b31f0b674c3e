// The three MNIST networks of the soft weight-sharing paper (../shared/reference/PAPER.md),
// built as named Sequentials so that checkpoint keys equal those of the equivalent PyTorch
// nn.Sequential(OrderedDict(...)) (see tests/pytorch_interop.py).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/rng.h"
#include "nn/sequential.h"

namespace sws {

// LeNet-300-100: flatten, 784-300-100-10 dense with ReLU; 266,610 parameters. Every factory
// takes input F32 [B, 1, 28, 28], returns logits [B, 10] and draws its weights from rng.
std::shared_ptr<Sequential> make_lenet300(Rng& rng);
// LeNet-5-Caffe: conv 20@5x5, pool 2, conv 50@5x5, pool 2, dense 800-500 ReLU, dense 500-10
// (no non-linearity after the convolutions, as in Caffe's example); 431,080 parameters.
std::shared_ptr<Sequential> make_lenet5(Rng& rng);
// The tutorial's net: conv 25@5x5 stride 2 ReLU, conv 50@3x3 stride 2 ReLU, dense 1250-500 ReLU,
// dense 500-10; 642,460 parameters.
std::shared_ptr<Sequential> make_tutorial_net(Rng& rng);

// A dense ReLU net given by its layer sizes, {784, 128, 64, 10}: flatten, then fc1..fcK with
// relu1..relu(K-1) between them (none after the last). Throws sws::Error for fewer than two
// sizes or a size below 1.
std::shared_ptr<Sequential> make_mlp(const std::vector<int64_t>& sizes, Rng& rng);

// The fixed model names accepted by make_model: "lenet300", "lenet5", "tutorial"; it also takes
// "mlp:784-128-64-10" (make_mlp with those sizes).
const std::vector<std::string>& model_names();
// "" when make_model accepts `name`, else a sentence saying why not and what it accepts.
std::string model_name_problem(const std::string& name);
// Builds a model by name with PyTorch's default initialisation from a seed; throws sws::Error
// saying what is accepted for an unknown name.
std::shared_ptr<Sequential> make_model(const std::string& name, uint64_t seed);

}  // namespace sws
