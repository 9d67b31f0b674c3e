#include "optim/resume.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "core/safetensors.h"
#include "core/threads.h"

namespace sws {

namespace {

constexpr const char* kOptimizerPrefix = "optimizer:";

// The keys whose values differ between two settings objects, for the error message.
std::string differing_keys(const nlohmann::json& saved, const nlohmann::json& now) {
  std::string keys;
  for (auto it = now.begin(); it != now.end(); ++it)
    if (!saved.contains(it.key()) || saved[it.key()] != it.value())
      keys += (keys.empty() ? "" : ", ") + it.key() + " (saved " +
              (saved.contains(it.key()) ? saved[it.key()].dump() : "nothing") + ", now " + it.value().dump() + ")";
  for (auto it = saved.begin(); it != saved.end(); ++it)
    if (!now.contains(it.key()))
      keys += (keys.empty() ? "" : ", ") + it.key() + " (saved " + it.value().dump() + ", now nothing)";
  return keys;
}

}  // namespace

void save_resume_state(const std::string& path, const ResumeState& state, const NamedTensors& tensors,
                       const Optimizer& optimizer) {
  const OptimizerState opt = optimizer.state();
  std::vector<Tensor> host;  // keeps CPU copies alive while writing
  std::vector<SafetensorsView> views;
  auto add = [&](const std::string& name, const Tensor& t) {
    host.push_back(t.to(Device::cpu()).contiguous());
    views.push_back({name, host.back().dtype(), host.back().shape(), host.back().raw_data()});
  };
  for (const auto& [name, t] : tensors) add(name, t);
  for (const auto& [name, t] : opt.tensors) add(kOptimizerPrefix + name, t);
  const nlohmann::json meta = {{"epochs_done", state.epochs_done}, {"rng_state", state.rng_state},
                               {"settings", state.settings},       {"history", state.history},
                               {"seconds", state.seconds},         {"optimizer", opt.json}};
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  try {
    write_safetensors(path, views, {{"sws.resume", meta.dump()}});
  } catch (const Error& e) {
    // The write is atomic: whatever was at `path` before is still there and still valid.
    const std::string kept = state.epochs_done > 1 ? "the checkpoint of epoch " + std::to_string(state.epochs_done - 1) +
                                                         " is intact; fix this and continue with --resume"
                                                   : "no earlier checkpoint of this stage exists";
    throw Error(std::string(e.what()) + " (" + kept + ")");
  }
}

ResumeState load_resume_state(const std::string& path, const nlohmann::json& settings, const NamedTensors& tensors,
                              Optimizer& optimizer) {
  ResumeState state;
  if (!std::filesystem::exists(path)) return state;
  const SafetensorsFile file = read_safetensors(path);
  auto it = file.metadata.find("sws.resume");
  SWS_CHECK(it != file.metadata.end(), path + ": not a resume checkpoint (no 'sws.resume' metadata)");
  OptimizerState opt;
  try {
    const nlohmann::json meta = nlohmann::json::parse(it->second);
    state.epochs_done = meta.at("epochs_done").get<int64_t>();
    state.rng_state = meta.at("rng_state").get<std::array<uint64_t, 4>>();
    state.settings = meta.at("settings");
    state.history = meta.at("history");
    state.seconds = meta.at("seconds").get<double>();
    opt.json = meta.at("optimizer").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": malformed resume metadata: " + e.what());
  }
  SWS_CHECK(state.epochs_done >= 0, path + ": negative epoch count");
  // A data-parallel run's shares, and so its result, depend on the number of ranks ("ranks" is
  // in the settings of runs on more than one).
  const int64_t saved_ranks = state.settings.is_object() ? state.settings.value("ranks", int64_t{1}) : 1;
  const int64_t ranks = settings.is_object() ? settings.value("ranks", int64_t{1}) : 1;
  SWS_CHECK(saved_ranks == ranks, path + " was written by a run on " + std::to_string(saved_ranks) +
                                      " rank(s) and this run has " + std::to_string(ranks) + ": resume it with " +
                                      (saved_ranks > 1 ? "mpirun -np " + std::to_string(saved_ranks) : "one process") +
                                      " (each rank's share of a batch, and so the result, depends on the count)");
  SWS_CHECK(state.settings == settings, path + " was written by a run with other settings: " +
                                            differing_keys(state.settings, settings) +
                                            "; resume with the same flags, or start afresh without --resume");
  for (const auto& [name, t] : tensors) {
    const SafetensorsEntry* e = file.find(name);
    SWS_CHECK(e && e->dtype == t.dtype() && e->shape == t.shape(),
              path + ": missing or mis-shaped tensor '" + name + "' (expected " + describe(t) + ")");
    Tensor host = Tensor::empty(e->shape, e->dtype);
    std::copy(e->bytes.begin(), e->bytes.end(), static_cast<uint8_t*>(host.raw_data()));
    Tensor target = t;
    target.copy_(host);
  }
  const std::string prefix = kOptimizerPrefix;
  for (const SafetensorsEntry& e : file.tensors) {
    if (e.name.compare(0, prefix.size(), prefix) != 0) continue;
    Tensor t = Tensor::empty(e.shape, e.dtype);
    std::copy(e.bytes.begin(), e.bytes.end(), static_cast<uint8_t*>(t.raw_data()));
    opt.tensors.emplace_back(e.name.substr(prefix.size()), t);
  }
  try {
    optimizer.load_state(opt);
  } catch (const Error& err) {
    throw Error(path + ": " + err.what());
  }
  return state;
}

int stage_thread_count(int requested, bool resume, const std::vector<std::string>& checkpoints) {
  const ThreadChoice choice = choose_thread_count(requested);
  if (!resume || choice.source != ThreadSource::Detected) return choice.count;
  for (const std::string& path : checkpoints) {
    if (!std::filesystem::exists(path)) continue;
    const SafetensorsFile file = read_safetensors(path);
    auto it = file.metadata.find("sws.resume");
    if (it == file.metadata.end()) return choice.count;  // load_resume_state() will say what is wrong
    const nlohmann::json meta = nlohmann::json::parse(it->second, nullptr, false);
    if (meta.is_discarded() || !meta.contains("settings") || !meta["settings"].contains("threads") ||
        !meta["settings"]["threads"].is_number_integer())
      return choice.count;
    const int saved = meta["settings"]["threads"].get<int>();
    if (saved < 1) return choice.count;
    if (saved != choice.count)
      std::fprintf(stderr, "resuming with %d threads, the count %s was written with, so that the run stays "
                           "bit-identical (%d CPUs are available here)\n",
                   saved, path.c_str(), choice.count);
    return saved;
  }
  return choice.count;
}

}  // namespace sws
