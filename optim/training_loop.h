// The training loop every stage runs, for any module: shuffled batches of a Dataset, a loss the
// caller builds per step, backward, the optimiser's step; after every epoch an evaluation, the
// epoch's record and an atomic checkpoint of everything needed to continue bit-identically
// (optim/resume.h). A NaN or an infinity in the loss, a gradient or a parameter stops the run
// at that step, naming the epoch, the step and the tensor; the previous epoch's checkpoint is
// then the newest file on disk.
//
//   TrainingLoop loop(options, adam, net.named_parameters(), net);
//   loop.run(train, [&](const TrainingStep& s) {
//     Tensor loss = cross_entropy(net(s.x), s.y);
//     return StepLoss{loss, {{"train_loss", loss}}};
//   });
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/communicator.h"
#include "nn/dataset.h"
#include "nn/module.h"
#include "optim/optimizer.h"

namespace sws {

// The batch of one step, as the loss callback sees it. On several ranks (TrainingLoopOptions::comm)
// every rank sees its own share of the global batch, and the callback's loss must be this rank's
// part of the global loss, so that the sum over the ranks is the one-process loss: the share's
// mean times `share`, plus this rank's piece of any term that does not depend on the batch
// (GaussianMixturePrior::complexity with part {rank, ranks}). On one rank share is exactly 1.
struct TrainingStep {
  int64_t epoch = 0, epochs = 0;            // 1-based epoch, of `epochs`
  int64_t step = 0, steps_per_epoch = 0;    // 1-based step within the epoch
  int64_t global_step = 0;                  // 0-based over the whole run (schedules)
  int64_t first = 0, count = 0;             // this rank's examples [first, first + count) of the epoch's order
  int64_t batch_count = 0;                  // the global batch's examples (= count on one rank)
  double share = 1;                         // count / batch_count
  int rank = 0, ranks = 1;                  // this process's rank, of `ranks`
  Tensor x, y;                              // this rank's examples, on the loop's device
};

// A term of the loss reported per epoch: averaged over the epoch's examples (weighted by batch
// size), or the last step's value (a term that does not depend on the batch, like the prior's).
struct LossTerm {
  std::string name;  // the key in the epoch's record ("cross_entropy")
  Tensor value;      // a scalar
  bool averaged = true;  // false: the last step's value
};

// What the loss callback returns: the scalar to minimise and the terms to report.
struct StepLoss {
  Tensor loss;                 // a scalar with its graph
  std::vector<LossTerm> terms;  // the same order at every step
};

// Reported after every step (for a progress line): the running values of the terms so far (on
// several ranks, of the whole batch; observers are called on rank 0 only).
struct StepProgress {
  std::string stage;  // "pretraining", "retraining", "codebook fine-tuning"
  int64_t epoch = 0, epochs = 0, step = 0, steps_per_epoch = 0, examples_done = 0;  // 1-based epoch and step
  std::vector<std::pair<std::string, double>> terms;  // averaged terms: mean so far; others: last value
};

// Reported after every epoch, before the checkpoint is written. `record` is the epoch's entry of
// the history ({"epoch", the terms, the evaluations, "train_seconds"}); an observer may add keys
// to it and to `history` (both are saved in the checkpoint and restored on resume). Both are
// references valid during the call only.
struct EpochEnd {
  std::string stage;                           // as in StepProgress
  int64_t epoch = 0, epochs = 0, examples = 0;  // 1-based epoch; training examples per epoch
  nlohmann::json& record;                      // this epoch's entry, stored after the observers
  nlohmann::json& history;                     // {"epochs": [earlier records], ...}
  std::vector<std::string> shown;  // the record's keys worth printing, in order (terms, then evaluations)
  bool stop = false;               // set by a hook: this epoch is the run's last (saved with the checkpoint)
};

// Callbacks a program passes to follow a run; any may be empty. optim/console_observer.h prints.
struct TrainingObserver {
  std::function<void(const StepProgress&)> on_step;  // after every step
  std::function<void(EpochEnd&)> on_epoch;           // after every epoch, before its checkpoint
  std::function<void(const std::string&)> on_note;  // one-line notes: "resuming from ... after epoch 3"
};

// How a TrainingLoop runs.
struct TrainingLoopOptions {
  std::string stage = "training";  // names the stage in errors and notes ("pretraining stopped at ...")
  int64_t epochs = 1, batch = 64;  // the last batch of an epoch takes what is left
  uint64_t shuffle_seed = 1;       // seeds the per-epoch permutation of the examples
  std::string hint;                // appended to a divergence error ("try a smaller learning rate")
  std::string checkpoint;          // the per-epoch resume file; "" = none
  bool resume = false;             // continue from `checkpoint` when it exists
  nlohmann::json settings;         // must be equal in an interrupted run and its resumption
  // Evaluated after every epoch (evaluate_accuracy, nn/dataset.h) and stored under its name.
  std::vector<std::pair<std::string, const Dataset*>> evaluations;
  // Synchronous data parallelism over comm's ranks (null: one process, as in a build without MPI).
  // One seed gives every rank the same order; each takes its share of every global batch
  // (core/communicator.h: share_of); the gradients of the tensors the optimiser updates are
  // views of one flat buffer, which after backward travels in one allreduce with the step's loss
  // and terms; the optimiser then steps
  // identically everywhere. The state is broadcast from rank 0 at the start; evaluations are
  // sharded and summed; rank 0 alone writes the checkpoint and calls the observer. The settings
  // gain "ranks", so that a resume on another count is refused, and every rank checks that it
  // resumed from rank 0's checkpoint (--resume needs the run folder on a disk all ranks see). On
  // several ranks every updated tensor has a gradient from the first step (zeros where backward
  // did not reach), where one process leaves such a tensor without one and Adam skips it.
  Communicator* comm = nullptr;
};

// One stage's loop over a dataset. `state` is every tensor the checkpoint must carry (the
// module's parameters and any others the optimiser updates, by unique name); they are checked
// for NaN and infinity after every backward (their gradients) and every step (their values).
class TrainingLoop {
 public:
  // Throws sws::Error for epochs or batch below 1, or when the optimiser updates a tensor that
  // `state` lacks (a resume would restore its moments but not its values).
  TrainingLoop(TrainingLoopOptions options, Optimizer& optimizer, NamedTensors state, Module& model,
               TrainingObserver observer = {});
  // Called before each step's loss (a learning-rate schedule, a tau schedule).
  std::function<void(const TrainingStep&)> before_step;
  // Called after each optimiser step (extra checks, such as a collapsed variance).
  std::function<void(const TrainingStep&)> after_step;
  // Called at each epoch's end, after the evaluations and before the observer: the stage adds
  // its own keys to the record and the history.
  std::function<void(EpochEnd&)> on_epoch;

  // The history the run starts with when it does not resume (an object; "epochs" is added).
  void set_initial_history(nlohmann::json history);
  // Once per loop (a second call is an sws::Error). Runs the remaining epochs (all of them, or those after the checkpoint's, none when the
  // checkpoint's run had stopped: EpochEnd::stop) up to options.epochs; returns the history:
  // {"epochs": [record per epoch], "stopped_after": epoch when a hook stopped the run, ...whatever
  // the stage added}.
  const nlohmann::json& run(const Dataset& train, const std::function<StepLoss(const TrainingStep&)>& loss);
  // The last epoch's record (empty before the first).
  nlohmann::json last_record() const;
  // The history so far (restored from the checkpoint once run() has started).
  const nlohmann::json& history() const { return history_; }
  // Epochs finished before run() started (from the checkpoint), and the seconds they took.
  int64_t resumed_epochs() const { return resumed_epochs_; }
  // Training seconds of the whole run, those before a resume included.
  double seconds() const;

 private:
  TrainingLoopOptions options_;
  Optimizer& optimizer_;
  NamedTensors state_;
  Module& model_;
  TrainingObserver observer_;
  nlohmann::json history_ = nlohmann::json::object();
  int64_t resumed_epochs_ = 0;
  bool ran_ = false;
  double resumed_seconds_ = 0, run_seconds_ = 0;
};

}  // namespace sws
