// The stage subcommands on MNIST, thin front ends over the library's pipeline
// (compress/pipeline.h, compress/presets.h): what they add is the command line's part, the data
// folder, the output folder's space check, printing, figures and report.md.
#pragma once
#include <cstdint>
#include <string>

#include "compress/pipeline.h"

namespace sws {

// What every stage command shares besides the method's settings.
struct CommandOptions {
  std::string model = "lenet5";  // lenet300, lenet5, tutorial or mlp:SIZES (nn/models.h)
  std::string out_dir, data_dir = "data/mnist";
  int64_t train_limit = 0, test_limit = 0;  // > 0: only the first N training / test images
  uint64_t seed = 1;             // the model's initialisation and every stage's data order
  int threads = 0;               // 0: OMP_NUM_THREADS, else the CPUs available (core/threads.h)
  std::string device = "cpu";    // "cpu", "cuda" or "cuda:N"
  bool resume = false;           // continue from OUT/checkpoints/
  bool figures = true;           // sws run: draw OUT/figures/ (tools/figures.h)
  bool test = true;              // read the test set (--no-test: off, for a search's trials and ablations)
  int64_t frame_every = 1;       // sws run: draw the film's frame every k epochs (and the last)
  double validation_fraction = 0.1;  // the stage commands' validation split (sws run: the settings')
  // Data-parallel training over these ranks (set by main under an MPI launcher); null: one
  // process. Every rank reads the data; rank 0 alone writes files and prints.
  Communicator* comm = nullptr;
  double comm_timeout = 300;  // --comm-timeout: seconds a collective may wait for the slowest rank
};

// `sws run`: pretrain (or start from `from_pretrained`), retrain, post-process; writes into OUT
// the files of compress/pipeline.h, report.md and, unless options.figures is false, the figures.
// A QuantizationFailure is rethrown after the report (marked FAILED) and figures are written.
void run_pipeline_command(const CommandOptions& options, const PipelineSettings& settings,
                          const std::string& from_pretrained);

// `sws pretrain`: writes OUT/model.safetensors and OUT/metrics.json.
void run_pretrain_command(const CommandOptions& options, const PretrainSettings& settings);

// `sws retrain`: retrains the checkpoint `weights`; writes OUT/retrained.safetensors,
// OUT/prior.safetensors and OUT/metrics.json.
void run_retrain_command(const CommandOptions& options, const RetrainSettings& settings, const SnapSettings& snap,
                         const std::string& weights);

// `sws quantize`: post-processes a retrained checkpoint with its prior (fine-tuning on the
// training split); writes OUT/quantized.safetensors and OUT/metrics.json; throws a
// QuantizationFailure when the validation accuracy fell by more than max_accuracy_drop.
void run_quantize_command(const CommandOptions& options, const PostprocessSettings& settings, double max_accuracy_drop,
                          const std::string& weights, const std::string& prior_path);

}  // namespace sws
