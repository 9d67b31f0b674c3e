#include "compress/pipeline.h"

#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>

#include "compress/prior_file.h"
#include "compress/sws_format.h"
#include "compress/sws_module.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/threads.h"
#include "nn/checkpoint.h"
#include "optim/resume.h"

namespace sws {

std::string quantization_failure_message(double retrained, double quantized, double allowed) {
  char text[700];
  std::snprintf(text, sizeof text,
                "post-processing lost %.2f points of validation accuracy (retrained %.2f%%, quantised %.2f%%; "
                "at most %.2f allowed): the weights had not gathered on the mixture's components. Try more "
                "retraining (--max-retrain-epochs, --retrain-epochs), a larger --tau or --tau-growth, a smaller "
                "--pi0 (more weights kept non-zero), --assign ml, or codebook fine-tuning (--finetune-epochs 1); "
                "or allow more with --max-drop. The files are written, the compressed one as FAILED-model.sws",
                100 * (retrained - quantized), 100 * retrained, 100 * quantized, 100 * allowed);
  return text;
}

PipelineResult compress_model(Module& model, const PipelineSettings& settings, const Dataset& train,
                              const Dataset& test, const PipelineRun& run) {
  validate(settings);
  SWS_CHECK(!run.out_dir.empty(), "compress_model: the run needs an output folder (PipelineRun::out_dir)");
  SWS_CHECK(!model.parameters().empty(), "compress_model: the model has no parameters");
  SWS_CHECK(run.threads >= 0, "compress_model: threads must be >= 0 (0: the default), got " + std::to_string(run.threads));
  const DataSplit split = split_validation(train, settings.validation_fraction);
  check_model_fits(model, train);
  const std::string out = run.out_dir, checkpoints = out + "/checkpoints";
  // Both training stages record the thread count in their checkpoints: one count for the run.
  set_num_threads(stage_thread_count(run.threads, run.resume,
                                     {checkpoints + "/retrain.safetensors", checkpoints + "/pretrain.safetensors"}));
  const bool writer = rank_of(run.comm) == 0;  // the one rank that writes files and reports
  run_on_every_rank(run.comm, [&] {
    if (!writer) return;
    std::error_code ec;
    std::filesystem::create_directories(checkpoints, ec);
    SWS_CHECK(!ec, "cannot create the run's folder " + checkpoints + ": " + ec.message());
  });
  auto note = [&](const std::string& line) {
    if (run.observer.on_note && writer) run.observer.on_note(line);
  };
  auto stage = [&](const std::string& name) {
    if (run.on_stage && writer) run.on_stage(name, model);
  };
  // Rank 0 writes; a failed write stops every rank with its message.
  auto write = [&](const std::function<void()>& save) {
    run_on_every_rank(run.comm, [&] {
      if (writer) save();
    });
  };
  auto metadata = [&](const std::string& stage_name) {
    return std::map<std::string, std::string>{{"sws.model", run.architecture}, {"sws.stage", stage_name}};
  };
  // The test set, once per stage: reported, never decided on.
  auto report_test = [&](nlohmann::json& stage_metrics) {
    if (test.size() == 0) return std::numeric_limits<double>::quiet_NaN();  // switched off (a search's trial)
    const double a = record_test_accuracy(model, test, stage_metrics, run.comm);
    char line[80];
    std::snprintf(line, sizeof line, "test accuracy %.2f%% on %lld images", 100 * a, static_cast<long long>(test.size()));
    note(line);
    return a;
  };
  StageRun stage_run;
  stage_run.architecture = run.architecture, stage_run.resume = run.resume, stage_run.comm = run.comm;
  if (writer) stage_run.observer = run.observer;
  stage_run.evaluations = {{"validation_accuracy", &split.validation}};

  PipelineResult result;
  nlohmann::json& metrics = result.metrics;
  metrics = {{"model", run.architecture}, {"train_images", split.train.size()},
             {"validation_images", split.validation.size()}, {"validation_fraction", settings.validation_fraction}};
  stage("pretraining");
  if (run.pretrain) {
    stage_run.checkpoint = checkpoints + "/pretrain.safetensors";
    const PretrainResult p = pretrain(model, settings.pretrain, split.train, stage_run);
    result.pretrained_validation = p.accuracy;
    metrics["pretrained"] = p.metrics;
  } else {
    result.pretrained_validation = evaluate_accuracy(model, split.validation, run.comm);
    metrics["pretrained"] = {{"validation_accuracy", result.pretrained_validation}, {"seconds", 0.0}};
  }
  result.pretrained_accuracy = report_test(metrics["pretrained"]);
  write([&] { save_checkpoint(model, out + "/pretrained.safetensors", metadata("pretrained")); });

  stage("retraining");
  stage_run.checkpoint = checkpoints + "/retrain.safetensors";
  const RetrainResult r = retrain(model, settings.retrain, settings.postprocess.snap, split.train, stage_run);
  result.prior = r.prior;
  result.retrained_validation = r.accuracy;
  metrics["retrained"] = r.metrics;
  result.retrained_accuracy = report_test(metrics["retrained"]);
  write([&] {
    save_checkpoint(model, out + "/retrained.safetensors", metadata("retrained"));
    save_prior(*r.prior, out + "/prior.safetensors");
  });

  stage("post-processing");
  stage_run.checkpoint.clear();
  const PostprocessResult q = postprocess(model, *r.prior, settings.postprocess, split.train, stage_run);
  result.quantized_validation = q.accuracy_after;
  result.nonzero_fraction = q.nonzero_fraction;
  result.account = q.account;
  result.paper_rate = q.account.rate();
  metrics["quantized"] = q.metrics;
  result.quantized_accuracy = report_test(metrics["quantized"]);
  write([&] { save_checkpoint(model, out + "/quantized.safetensors", metadata("quantized")); });
  // Never a broken model presented as a result: judged on the validation split.
  const double drop = result.retrained_validation - result.quantized_validation;
  result.failed = drop > settings.max_accuracy_drop;
  metrics["status"] = result.failed ? "failed" : "ok";
  metrics["quantized"]["validation_drop"] = drop;
  metrics["quantized"]["max_accuracy_drop"] = settings.max_accuracy_drop;
  // The real file (docs/FORMAT.md): its size, and the rate against 32-bit floats.
  const std::string file = result.failed ? "FAILED-model.sws" : "model.sws";
  const std::string bytes = encode_sws(to_sws_model(model, run.architecture, run.sws_config));
  write([&] { write_file_atomically(out + "/" + file, bytes); });
  result.file_bytes = static_cast<int64_t>(bytes.size());
  result.file_rate = 4.0 * q.account.parameters / static_cast<double>(bytes.size());
  metrics["compression"] = {{"paper_rate", result.paper_rate}, {"paper_bits", q.account.total_bits},
                            {"parameters", q.account.parameters}, {"file", file}, {"file_bytes", result.file_bytes},
                            {"file_rate", result.file_rate}};
  if (result.failed) {
    const std::string message =
        quantization_failure_message(result.retrained_validation, result.quantized_validation, settings.max_accuracy_drop);
    metrics["failure"] = message;
    write([&] { write_file_atomically(out + "/metrics.json", metrics.dump(2) + "\n"); });
    throw QuantizationFailure(message, result);
  }
  write([&] { write_file_atomically(out + "/metrics.json", metrics.dump(2) + "\n"); });
  note("wrote " + out + "/" + file + ": " + std::to_string(result.file_bytes) + " bytes");
  return result;
}

}  // namespace sws
