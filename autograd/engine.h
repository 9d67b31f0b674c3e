// The backward pass: an iterative (non-recursive) topological walk from a scalar.
#pragma once
#include "core/tensor.h"

namespace sws {

// Seeds d(root)/d(root) = 1, runs every node once all its consumers have passed their
// gradients, accumulates into leaves, then releases the graph (saved tensors and edges) and
// cuts root from it. Runs with grad mode off. Throws sws::Error unless root is a defined
// one-element tensor that requires grad. Tensor::backward() calls this.
void run_backward(const Tensor& root);

}  // namespace sws
