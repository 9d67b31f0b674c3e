// Finite-difference checks (double precision) of every op with a backward, on the CPU.
#include "tests/gradient_cases.h"

using namespace sws;
using namespace sws::testing;

TEST_CASE("gradients of elementwise ops") { check_elementwise_ops_gradients(Device::cpu()); }
TEST_CASE("gradients of reductions, reshapes and a reused input") { check_reductions_reshapes_and_reuse_gradients(Device::cpu()); }
TEST_CASE("gradients of matmul and linear") { check_matmul_and_linear_gradients(Device::cpu()); }
TEST_CASE("gradients of conv2d with stride and padding") { check_conv2d_gradients(Device::cpu()); }
TEST_CASE("gradients of max_pool2d (no ties)") { check_max_pool2d_gradients(Device::cpu()); }
TEST_CASE("gradients of log_softmax and cross_entropy") { check_log_softmax_and_cross_entropy_gradients(Device::cpu()); }
TEST_CASE("gradients through a small LeNet-like stack") { check_lenet_like_stack_gradients(Device::cpu()); }
