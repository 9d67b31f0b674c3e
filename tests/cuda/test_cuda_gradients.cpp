// The CPU's finite-difference gradient checks (tests/gradient_cases.h), evaluated on the GPU in
// double precision: every op's backward on cuda:0 against central differences.
#include "tests/gradient_cases.h"

using namespace sws;
using namespace sws::testing;

TEST_CASE("cuda: gradients of elementwise ops") { check_elementwise_ops_gradients(Device::cuda()); }
TEST_CASE("cuda: gradients of reductions, reshapes and a reused input") { check_reductions_reshapes_and_reuse_gradients(Device::cuda()); }
TEST_CASE("cuda: gradients of matmul and linear") { check_matmul_and_linear_gradients(Device::cuda()); }
TEST_CASE("cuda: gradients of conv2d with stride and padding") { check_conv2d_gradients(Device::cuda()); }
TEST_CASE("cuda: gradients of max_pool2d (no ties)") { check_max_pool2d_gradients(Device::cuda()); }
TEST_CASE("cuda: gradients of log_softmax and cross_entropy") { check_log_softmax_and_cross_entropy_gradients(Device::cuda()); }
TEST_CASE("cuda: gradients through a small LeNet-like stack") { check_lenet_like_stack_gradients(Device::cuda()); }
