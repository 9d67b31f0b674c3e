#include "compress/pipeline.h"

#include <filesystem>

#include "compress/prior_file.h"
#include "compress/sws_format.h"
#include "compress/sws_module.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/threads.h"
#include "nn/checkpoint.h"
#include "optim/resume.h"

namespace sws {

PipelineResult compress_model(Module& model, const PipelineSettings& settings, const Dataset& train,
                              const Dataset& test, const PipelineRun& run) {
  validate(settings);
  SWS_CHECK(!run.out_dir.empty(), "compress_model: the run needs an output folder (PipelineRun::out_dir)");
  SWS_CHECK(!model.parameters().empty(), "compress_model: the model has no parameters");
  const std::string out = run.out_dir, checkpoints = out + "/checkpoints";
  std::error_code ec;
  std::filesystem::create_directories(checkpoints, ec);
  SWS_CHECK(!ec, "cannot create the run's folder " + checkpoints + ": " + ec.message());
  // Both training stages record the thread count in their checkpoints: one count for the run.
  set_num_threads(stage_thread_count(run.threads, run.resume,
                                     {checkpoints + "/retrain.safetensors", checkpoints + "/pretrain.safetensors"}));
  auto note = [&](const std::string& line) {
    if (run.observer.on_note) run.observer.on_note(line);
  };
  auto stage = [&](const std::string& name) {
    if (run.on_stage) run.on_stage(name, model);
  };
  auto metadata = [&](const std::string& stage_name) {
    return std::map<std::string, std::string>{{"sws.model", run.architecture}, {"sws.stage", stage_name}};
  };
  StageRun stage_run;
  stage_run.architecture = run.architecture, stage_run.resume = run.resume, stage_run.observer = run.observer;
  stage_run.evaluations = {{run.test_name, &test}};

  PipelineResult result;
  nlohmann::json& metrics = result.metrics;
  metrics = {{"model", run.architecture}};
  stage("pretraining");
  if (run.pretrain) {
    stage_run.checkpoint = checkpoints + "/pretrain.safetensors";
    const PretrainResult p = pretrain(model, settings.pretrain, train, stage_run);
    result.pretrained_accuracy = p.accuracy;
    metrics["pretrained"] = p.metrics;
  } else {
    result.pretrained_accuracy = evaluate_accuracy(model, test);
    metrics["pretrained"] = {{run.test_name, result.pretrained_accuracy}, {"seconds", 0.0}};
  }
  save_checkpoint(model, out + "/pretrained.safetensors", metadata("pretrained"));

  stage("retraining");
  stage_run.checkpoint = checkpoints + "/retrain.safetensors";
  const RetrainResult r = retrain(model, settings.retrain, train, stage_run);
  result.prior = r.prior;
  result.retrained_accuracy = r.accuracy;
  metrics["retrained"] = r.metrics;
  save_checkpoint(model, out + "/retrained.safetensors", metadata("retrained"));
  save_prior(*r.prior, out + "/prior.safetensors");

  stage("post-processing");
  stage_run.checkpoint.clear();
  const PostprocessResult q = postprocess(model, *r.prior, settings.postprocess, train, stage_run);
  result.quantized_accuracy = q.accuracy_after;
  result.nonzero_fraction = q.nonzero_fraction;
  result.account = q.account;
  result.paper_rate = q.account.rate();
  metrics["quantized"] = q.metrics;
  save_checkpoint(model, out + "/quantized.safetensors", metadata("quantized"));
  // The real file (docs/FORMAT.md): its size, and the rate against 32-bit floats.
  const std::string bytes = encode_sws(to_sws_model(model, run.architecture, run.sws_config));
  write_file_atomically(out + "/model.sws", bytes);
  result.file_bytes = static_cast<int64_t>(bytes.size());
  result.file_rate = 4.0 * q.account.parameters / static_cast<double>(bytes.size());
  metrics["compression"] = {{"paper_rate", result.paper_rate}, {"paper_bits", q.account.total_bits},
                            {"parameters", q.account.parameters}, {"file_bytes", result.file_bytes},
                            {"file_rate", result.file_rate}};
  write_file_atomically(out + "/metrics.json", metrics.dump(2) + "\n");
  note("wrote " + out + "/model.sws: " + std::to_string(result.file_bytes) + " bytes");
  return result;
}

}  // namespace sws
