// An in-memory classification dataset as tensors, and the batching and evaluation loops that
// training uses. MNIST pixels become floats in [0, 1] (x / 255), as in the paper's tutorial.
#pragma once
#include <vector>

#include "core/communicator.h"
#include "core/mnist.h"
#include "core/tensor.h"
#include "nn/module.h"

namespace sws {

// N examples on the host: images[i] has label labels[i].
struct Dataset {
  Tensor images;  // F32 [N, 1, 28, 28]
  Tensor labels;  // I32 [N]
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }  // N (0 when empty)
};

// Converts an MNIST split to CPU tensors, pixels / 255; keeps only the first `limit` examples
// when limit > 0.
Dataset make_dataset(const MnistSplit& split, int64_t limit = 0);

// A training set and the validation set held out from it.
struct DataSplit {
  Dataset train;       // the first examples: what training sees (N in tau / N is its size)
  Dataset validation;  // the last ones: what every decision of the pipeline is made on
};

// Holds out the last round(fraction x N) examples of `data` as its validation set (views, no
// copy; deterministic). fraction 0 leaves the validation set empty. Throws sws::Error unless
// 0 <= fraction < 1 and at least one example is left for training (and, for fraction > 0, at
// least one held out).
DataSplit split_validation(const Dataset& data, double fraction);

// Copies examples order[start .. start+count) into x [count, ...] and y [count]: contiguous F32 /
// I32 tensors of that batch size on any one device (else sws::Error; reusing them avoids
// allocation in the training loop). A GPU batch is gathered on the host and copied once.
// Indices outside the dataset are an sws::Error.
void gather_batch(const Dataset& data, const std::vector<int64_t>& order, int64_t start,
                  int64_t count, Tensor& x, Tensor& y);

// Runs `model` on the first two examples of `data` without gradients and throws sws::Error unless
// it returns F32 logits [2, C] with C above every label of `data` (sizes that do not fit the
// data are refused before any training, naming both).
void check_model_fits(Module& model, const Dataset& data);

// Fraction in [0, 1] of examples whose arg-max logit (first on ties) equals the label, in
// batches of `batch`, under NoGradGuard; 0 for an empty dataset. The model must return F32
// [count, classes]; each batch of host data is copied to the device of the model's parameters.
double evaluate_accuracy(Module& model, const Dataset& data, int64_t batch = 1000);
// The same over comm's ranks (null: one process): each evaluates its contiguous share
// (share_of) and the counts of correct examples are summed, so every rank returns the fraction.
double evaluate_accuracy(Module& model, const Dataset& data, Communicator* comm, int64_t batch = 1000);

}  // namespace sws
