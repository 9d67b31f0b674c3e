// The autograd engine's behaviour: accumulation, no-grad scope, graph release, deep graphs.
#include <doctest/doctest.h>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops.h"

using namespace sws;

TEST_CASE("gradients accumulate on leaves across backward calls") {
  Tensor x = Tensor::from_vector(std::vector<double>{1.0, 2.0}, {2});
  x.set_requires_grad(true);
  sum(mul(x, x)).backward();  // d/dx = 2x
  CHECK(x.grad().to_double_vector() == std::vector<double>{2.0, 4.0});
  sum(mul(x, x)).backward();
  CHECK(x.grad().to_double_vector() == std::vector<double>{4.0, 8.0});
}

TEST_CASE("no-grad scope records nothing") {
  Tensor x = Tensor::from_vector(std::vector<float>{1.f}, {1});
  x.set_requires_grad(true);
  {
    NoGradGuard guard;
    Tensor y = mul(x, x);
    CHECK(y.is_leaf());
    CHECK_THROWS_WITH(sum(y).backward(), doctest::Contains("does not require grad"));
  }
  CHECK(grad_enabled());
  CHECK_FALSE(mul(x, x).is_leaf());
}

TEST_CASE("backward needs a scalar") {
  Tensor x = Tensor::from_vector(std::vector<float>{1.f, 2.f}, {2});
  x.set_requires_grad(true);
  CHECK_THROWS_WITH(mul(x, x).backward(), doctest::Contains("needs a scalar"));
}

TEST_CASE("the graph is released after backward") {
  Tensor x = Tensor::from_vector(std::vector<float>{1.f, 2.f}, {2});
  x.set_requires_grad(true);
  Tensor h = exp(x);  // saves its output for backward
  std::weak_ptr<Node> node = h.grad_fn();
  Tensor loss = sum(h);
  loss.backward();
  CHECK(loss.is_leaf());
  // h still holds its node, but the node dropped its edges and saved tensors.
  REQUIRE_FALSE(node.expired());
  const bool edges_dropped = node.lock()->next.empty();
  CHECK(edges_dropped);
  h = Tensor();
  CHECK(node.expired());
}

TEST_CASE("a 100,000-op chain runs backward without recursion") {
  Tensor x = Tensor::from_vector(std::vector<double>{1.0}, {1});
  x.set_requires_grad(true);
  Tensor h = x;
  for (int i = 0; i < 100000; ++i) h = affine(h, 1.0, 0.0);
  sum(h).backward();
  CHECK(x.grad().item() == 1.0);
}

TEST_CASE("a 1,000,000-op graph that never runs backward is freed without recursion") {
  Tensor x = Tensor::from_vector(std::vector<float>{1.f}, {1});
  x.set_requires_grad(true);
  Tensor h = x;
  for (int i = 0; i < 1000000; ++i) h = affine(h, 1.0, 0.0);
  h = Tensor();  // would overflow the stack through nested destructors if freed recursively
  CHECK(x.requires_grad());
}

TEST_CASE("inputs that need no gradient get none") {
  Tensor x = Tensor::from_vector(std::vector<float>{1.f, 2.f}, {2});
  Tensor w = Tensor::from_vector(std::vector<float>{3.f, 4.f}, {2});
  w.set_requires_grad(true);
  sum(mul(x, w)).backward();
  CHECK_FALSE(x.grad().defined());
  CHECK(w.grad().to_double_vector() == std::vector<double>{1.0, 2.0});
}
