// How a stage of the pipeline runs, apart from the method's settings: the model's name, the
// resume checkpoint, the data it reports on after every epoch, and who follows the run.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/dataset.h"
#include "optim/training_loop.h"

namespace sws {

// The run-dependent part of a stage call (the method's settings are the stage's own struct).
struct StageRun {
  std::string architecture = "model";  // the model's name, in the settings and the files' metadata
  std::string checkpoint;              // the per-epoch resume file (optim/resume.h); "" = none
  // Continue from `checkpoint` when it exists. The checkpoint records the thread count: call
  // set_num_threads(stage_thread_count(0, true, {checkpoint})) (optim/resume.h) first to take it.
  bool resume = false;
  // Accuracy on each dataset after every epoch, stored under its name ("test_accuracy").
  std::vector<std::pair<std::string, const Dataset*>> evaluations;
  TrainingObserver observer;           // optim/console_observer.h prints; empty = quiet
  // Data-parallel over these ranks (TrainingLoopOptions::comm); null: one process. Give the
  // observer to rank 0 only: the stages' notes are not gated by rank.
  Communicator* comm = nullptr;
};

// What a stage records about the run besides its own settings (the resume check compares all of
// them): the model's name, the thread count, the device, and the number of images per dataset
// ("train_images", and "test_images" for an evaluation named "test_accuracy").
nlohmann::json run_settings(const StageRun& run, const Module& model, const Dataset& train);

// The test set, read once at a stage's end and only reported: stores "test_accuracy",
// "test_error" and "test_images" in `metrics` and returns the accuracy.
// With comm the evaluation is sharded over its ranks (every rank must call it).
double record_test_accuracy(Module& model, const Dataset& test, nlohmann::json& metrics, Communicator* comm = nullptr);

// For each evaluation "X_accuracy" of `record`: "X_accuracy" and "X_error" = 1 - accuracy.
nlohmann::json final_accuracies(const StageRun& run, const nlohmann::json& record);

}  // namespace sws
