// A node of the define-by-run graph: one per op that ran with grad enabled and an input that
// requires grad. It holds only what its backward needs, and edges to the nodes of its inputs.
#pragma once
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace sws {

// The base of every backward node; an op's node derives from it and fills `next` via attach().
struct Node {
  // Releases the chain of inputs iteratively: a long unused graph must not overflow the stack
  // through nested destructors.
  virtual ~Node();
  // Gradients w.r.t. each input given the gradient w.r.t. the output (same shape as the output);
  // one entry per edge in `next`, undefined where that input needs none (fewer entries count as
  // undefined). Called at most once, with grad mode off.
  virtual std::vector<Tensor> backward(const Tensor& grad_output) = 0;
  // Drops saved tensors once backward has run (the graph is single-use).
  virtual void release() {}
  // The op's name, for error messages ("conv2d", "linear").
  virtual const char* name() const = 0;

  // The node of each input, in the op's input order, or null where the input needs no gradient.
  std::vector<std::shared_ptr<Node>> next;
};

// The graph's sink for a leaf: adds the incoming gradient to the leaf's grad().
struct AccumulateGrad : Node {
  explicit AccumulateGrad(std::weak_ptr<TensorImpl> leaf) : leaf(std::move(leaf)) {}  // for `leaf`
  // grad = clone of grad_output on the first pass, else grad += grad_output (throws sws::Error
  // on a shape mismatch); nothing if the leaf is gone. Returns no gradients.
  std::vector<Tensor> backward(const Tensor& grad_output) override;
  const char* name() const override { return "accumulate_grad"; }  // "accumulate_grad"
  std::weak_ptr<TensorImpl> leaf;  // the parameter; weak, as the leaf owns this node
};

// The node through which a gradient reaches t: its grad_fn, or its AccumulateGrad (created on
// first use and kept in t) when t is a leaf that requires grad, or null when t needs no gradient
// or is undefined.
std::shared_ptr<Node> gradient_edge(const Tensor& t);

// True when grad mode is on and any of the (non-null, defined) tensors requires grad or has a
// grad_fn: whether an op must record a node.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);

// Connects a freshly computed output to its node: output.grad_fn = node, node.next = the
// gradient_edge of each input in order (null for a null pointer, e.g. an absent bias).
void attach(Tensor& output, std::shared_ptr<Node> node, std::initializer_list<const Tensor*> inputs);
// The same for an op with a variable number of inputs.
void attach(Tensor& output, std::shared_ptr<Node> node, const std::vector<const Tensor*>& inputs);

}  // namespace sws
