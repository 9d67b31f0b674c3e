// Resumable stages: at the end of every epoch a stage writes its whole state — the model, the
// prior, every optimiser group's moments and step counts, the data-order RNG, the epochs done,
// the per-epoch history and the settings — to one safetensors file, atomically (temporary name,
// fsync, rename), so a kill -9 at any moment leaves either the previous epoch's state or the new
// one. With --resume a stage reloads it and continues; with the same seed and thread count the
// result is bit-identical to an uninterrupted run (tests/resume_test.sh checks this).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "optim/optimizer.h"

namespace sws {

// What a resume checkpoint holds besides the tensors and the optimiser.
struct ResumeState {
  int64_t epochs_done = 0;              // epochs finished
  std::array<uint64_t, 4> rng_state{};  // the data-order generator after the last finished epoch
  nlohmann::json settings;              // must equal the resuming run's settings
  nlohmann::json history;               // whatever the stage reports at its end (per-epoch metrics, ...)
  double seconds = 0;                   // training time spent so far
};

// Writes the state with the tensors (model and prior parameters, by name) and the optimiser.
void save_resume_state(const std::string& path, const ResumeState& state, const NamedTensors& tensors,
                       const Optimizer& optimizer);

// If `path` exists: checks that it was written by a run with the same `settings` (else throws
// sws::Error naming the settings that differ), copies its tensors into `tensors` in place (names,
// shapes and dtypes must match), restores the optimiser, and returns the state. Returns an empty
// state (epochs_done 0) when there is no file.
ResumeState load_resume_state(const std::string& path, const nlohmann::json& settings, const NamedTensors& tensors,
                              Optimizer& optimizer);

// The thread count a stage runs with. Results are bit-identical for the same seed and thread
// count, so the count is one of the resume settings. `requested` (--threads; 0 = not given)
// and then OMP_NUM_THREADS win as everywhere (core/threads.h); when neither is given and the
// stage resumes from the first existing file of `checkpoints`, the count that file was written
// with is taken, not this machine's, so that the run finishes as it would have uninterrupted
// (said on stderr when it differs from the CPUs available here).
int stage_thread_count(int requested, bool resume, const std::vector<std::string>& checkpoints);

}  // namespace sws
