// A node of the define-by-run graph: one per op that ran with grad enabled and an input that
// requires grad. It holds only what its backward needs, and edges to the nodes of its inputs.
#pragma once
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace sws {

struct Node {
  // Releases the chain of inputs iteratively: a long unused graph must not overflow the stack
  // through nested destructors.
  virtual ~Node();
  // Gradients w.r.t. each input given the gradient w.r.t. the output; one entry per edge in
  // `next`, undefined where that input needs none.
  virtual std::vector<Tensor> backward(const Tensor& grad_output) = 0;
  // Drops saved tensors once backward has run (the graph is single-use).
  virtual void release() {}
  // The op's name, for error messages ("conv2d", "linear").
  virtual const char* name() const = 0;

  // The node of each input, or null where the input needs no gradient.
  std::vector<std::shared_ptr<Node>> next;
};

// The graph's sink for a leaf: adds the incoming gradient to the leaf's grad().
struct AccumulateGrad : Node {
  explicit AccumulateGrad(std::weak_ptr<TensorImpl> leaf) : leaf(std::move(leaf)) {}
  std::vector<Tensor> backward(const Tensor& grad_output) override;
  const char* name() const override { return "accumulate_grad"; }
  std::weak_ptr<TensorImpl> leaf;
};

// The node through which a gradient reaches t: its grad_fn, or its AccumulateGrad when t is a
// leaf that requires grad, or null when t needs no gradient.
std::shared_ptr<Node> gradient_edge(const Tensor& t);

// True when grad mode is on and any of the tensors requires a gradient.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);

// Connects a freshly computed output to its node: output.grad_fn = node, node.next = inputs'.
void attach(Tensor& output, std::shared_ptr<Node> node, std::initializer_list<const Tensor*> inputs);
// The same for an op with a variable number of inputs.
void attach(Tensor& output, std::shared_ptr<Node> node, const std::vector<const Tensor*>& inputs);

}  // namespace sws
