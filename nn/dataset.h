// An in-memory classification dataset as tensors, and the batching and evaluation loops that
// training uses. MNIST pixels become floats in [0, 1] (x / 255), as in the paper's tutorial.
#pragma once
#include <vector>

#include "core/mnist.h"
#include "core/tensor.h"
#include "nn/module.h"

namespace sws {

struct Dataset {
  Tensor images;  // F32 [N, 1, 28, 28]
  Tensor labels;  // I32 [N]
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

// Converts an MNIST split to tensors; keeps only the first `limit` examples when limit > 0.
Dataset make_dataset(const MnistSplit& split, int64_t limit = 0);

// Copies examples order[start .. start+count) into x [count, ...] and y [count] (which must be
// allocated with that batch size; reusing them avoids allocation in the training loop).
void gather_batch(const Dataset& data, const std::vector<int64_t>& order, int64_t start,
                  int64_t count, Tensor& x, Tensor& y);

// Fraction of examples whose arg-max logit equals the label, in batches, without autograd.
double evaluate_accuracy(Module& model, const Dataset& data, int64_t batch = 1000);

}  // namespace sws
