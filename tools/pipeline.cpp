#include "tools/pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include "compress/pipeline.h"
#include "compress/prior_file.h"
#include "core/atomic_file.h"
#include "core/backend.h"
#include "core/error.h"
#include "core/threads.h"
#include "nn/checkpoint.h"
#include "nn/models.h"
#include "optim/console_observer.h"
#include "optim/progress.h"
#include "optim/resume.h"
#include "tools/figures.h"
#include "tools/model_file.h"
#include "tools/output_dir.h"
#include "tools/report.h"

namespace sws {

namespace {

void write_json(const std::string& path, const nlohmann::json& j) { write_file_atomically(path, j.dump(2) + "\n"); }

// The console observer, plus what the figures need from retraining: each epoch's weight
// histogram in its record (over a range fixed from the pretrained weights, so that the frames
// line up; `sws plot` redraws from these) and, with a frames folder, the epoch's frame.
struct FigureHooks {
  Module* model = nullptr;
  std::string model_name, frames_dir;  // frames_dir "": no frames
  int64_t frame_every = 1;
  double histogram_range = 0;

  // Call as retraining starts, with the pretrained weights in the model.
  void start(Module& m) { model = &m, histogram_range = histogram_limit(m.parameters()); }

  TrainingObserver observer() {
    TrainingObserver o = console_observer();
    auto print = o.on_epoch;
    o.on_epoch = [this, print](EpochEnd& e) {
      print(e);
      if (e.stage != "retraining") return;
      const auto start = std::chrono::steady_clock::now();
      e.record["weight_histogram"] = weight_histogram(model->parameters(), histogram_range);
      if (!frames_dir.empty() && (e.epoch % frame_every == 0 || e.epoch == e.epochs))
        draw_epoch_frame(frames_dir, e.epoch, e.epochs, model_name, e.record["weight_histogram"],
                         e.history["prior_trajectory"].back());
      // The figures' cost (histogram and frame), to check it stays a small fraction of the epoch.
      e.record["figure_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    return o;
  }
};

std::map<std::string, std::string> stage_metadata(const std::string& model, const std::string& stage) {
  return {{"sws.model", model}, {"sws.stage", stage}};
}

// A fresh model by name, initialised from the seed, on the options' device.
std::shared_ptr<Sequential> build_model(const CommandOptions& o) {
  auto model = make_model(o.model, o.seed);
  model->to(parse_device(o.device));  // initialised on the host (the same values on every device), then moved
  return model;
}

StageRun stage_run(const CommandOptions& o, const Dataset& validation, const TrainingObserver& observer,
                   const std::string& checkpoint) {
  StageRun run;
  run.architecture = o.model, run.checkpoint = checkpoint, run.resume = o.resume;
  run.evaluations = {{"validation_accuracy", &validation}};
  run.observer = observer;
  run.comm = o.comm;
  return run;
}

// MNIST (or any IDX folder) as the commands use it: the training images (after --train-limit)
// with their validation split, and the test images (after --test-limit).
struct Splits {
  Dataset train_all, test;
  DataSplit split;
};

Splits load_splits(const CommandOptions& o, int64_t train_limit, double validation_fraction) {
  const Mnist mnist = load_mnist(o.data_dir);
  Splits s;
  s.train_all = make_dataset(mnist.train, train_limit);
  if (o.test) s.test = make_dataset(mnist.test, o.test_limit);
  s.split = split_validation(s.train_all, validation_fraction);
  return s;
}

// The stage commands' test reading, recorded in the metrics; NaN under --no-test (never read).
double read_test_set(const CommandOptions& o, Module& model, const Dataset& test, nlohmann::json& metrics) {
  return o.test ? record_test_accuracy(model, test, metrics) : std::numeric_limits<double>::quiet_NaN();
}

// Pruning and merging by validation edit the weights on the host: refused before any work on a
// GPU rather than after its retraining.
void check_postprocess_device(const CommandOptions& o, const PostprocessSettings& s) {
  SWS_CHECK(parse_device(o.device).is_cpu() || (!s.prune_budget && !s.merge_budget),
            "--prune-budget and --merge-budget edit the weights on the CPU: run them without --device " + o.device);
}

std::string test_phrase(double accuracy) {
  if (std::isnan(accuracy)) return "test set not read";
  char phrase[48];
  std::snprintf(phrase, sizeof phrase, "test accuracy %.2f%%", 100 * accuracy);
  return phrase;
}


}  // namespace

void run_pipeline_command(const CommandOptions& o, const PipelineSettings& settings, const std::string& from_pretrained) {
  run_on_every_rank(o.comm, [&] {
    validate(settings);  // every flag before any work
    check_postprocess_device(o, settings.postprocess);
    backend_for(parse_device(o.device));  // a malformed --device or a missing GPU fails here, before any work
    choose_thread_count(o.threads);  // a bad --threads or OMP_NUM_THREADS fails here, before any file
  });
  // Three stage checkpoints, two resume checkpoints (weights and Adam's moments) and the temporary
  // of one rewrite; about 150 kB of figures per retraining epoch and the film.
  const uint64_t figure_bytes = o.figures ? static_cast<uint64_t>(epoch_cap(settings.retrain)) * 150000u + 2000000u : 0;
  const bool writer = rank_of(o.comm) == 0;
  Dataset train, test;
  std::shared_ptr<Sequential> model;
  // Every rank reads the data and the model; a bad file on any stops them all with its message.
  run_on_every_rank(o.comm, [&] {
    const Mnist mnist = load_mnist(o.data_dir);
    train = make_dataset(mnist.train, o.train_limit);
    if (o.test) test = make_dataset(mnist.test, o.test_limit);
    model = make_model(o.model, o.seed);
    if (!from_pretrained.empty()) load_checkpoint(*model, from_pretrained);
    model->to(parse_device(o.device));
    check_model_fits(*model, train);
    if (writer) prepare_out_dir(o.out_dir, output_bytes_needed(model->parameter_count(), 12, figure_bytes));
  });
  FigureHooks figures;
  figures.model_name = o.model, figures.frame_every = o.frame_every;
  if (o.figures) figures.frames_dir = o.out_dir;
  PipelineRun run;
  run.out_dir = o.out_dir, run.architecture = o.model, run.sws_config = mnist_sws_config();
  run.pretrain = from_pretrained.empty(), run.resume = o.resume, run.threads = o.threads, run.comm = o.comm;
  run.observer = figures.observer();
  int stage_number = 0;
  run.on_stage = [&](const std::string& stage, Module& m) {
    ++stage_number;
    if (stage == "retraining") figures.start(m);
    if (stage == "pretraining" && !from_pretrained.empty())
      std::printf("== stage 1/3: starting from %s\n", from_pretrained.c_str());
    else
      std::printf("== stage %d/3: %s %s\n", stage_number, stage.c_str(), o.model.c_str());
    std::fflush(stdout);
  };
  PipelineResult result;
  std::string failure;
  try {
    result = compress_model(*model, settings, train, test, run);
  } catch (const QuantizationFailure& f) {
    // The run's files and report are still written, marked FAILED; main() exits with 3.
    result = f.result();
    failure = f.what();
  }
  if (!writer) {  // every rank ends with the same model and outcome; rank 0 writes the rest
    if (!failure.empty()) throw QuantizationFailure(failure, result);
    return;
  }
  nlohmann::json& metrics = result.metrics;
  if (o.comm) metrics["ranks"] = {{"count", o.comm->size()}, {"transport", o.comm->describe()}};
  if (from_pretrained.empty()) metrics["pretrained"]["settings"]["data"] = o.data_dir;
  else metrics["pretrained"]["from"] = from_pretrained;
  if (o.figures) {
    // The figures read the run's files back, as `sws plot` does.
    double per_epoch_figures = 0, per_epoch_training = 0;
    const nlohmann::json& epochs = metrics["retrained"]["epochs"];
    for (const auto& e : epochs)
      per_epoch_figures += e.value("figure_seconds", 0.0), per_epoch_training += e.value("train_seconds", 0.0);
    write_json(o.out_dir + "/metrics.json", metrics);
    const double final_seconds = draw_run_figures(o.out_dir, false);
    metrics["figures"] = {{"folder", o.out_dir + "/figures"},
                          {"per_epoch_seconds", per_epoch_figures / std::max<size_t>(1, epochs.size())},
                          {"fraction_of_retraining", per_epoch_training > 0 ? per_epoch_figures / per_epoch_training : 0.0},
                          {"final_seconds", final_seconds}};
    std::printf("figures: %s/figures (per epoch %.0f ms = %.2f%% of the epoch's training; final set %.1f s)\n",
                o.out_dir.c_str(), 1e3 * metrics["figures"]["per_epoch_seconds"].get<double>(),
                100 * metrics["figures"]["fraction_of_retraining"].get<double>(), final_seconds);
  }
  write_json(o.out_dir + "/metrics.json", metrics);
  const std::string md = run_report(o.model, metrics, result.account);
  write_file_atomically(o.out_dir + "/report.md", md);
  const std::string file = metrics["compression"].value("file", std::string("model.sws"));
  std::printf("\n%s\nwrote %s/{pretrained,retrained,quantized}.safetensors, %s, prior.safetensors, metrics.json, report.md\n",
              md.c_str(), o.out_dir.c_str(), file.c_str());
  if (!failure.empty()) throw QuantizationFailure(failure, result);
}

void run_pretrain_command(const CommandOptions& o, const PretrainSettings& settings) {
  run_on_every_rank(o.comm, [&] {  // every flag before any work, alike on every rank
    validate(settings);
    backend_for(parse_device(o.device));
  });
  // model.safetensors, the resume checkpoint (weights and Adam's two moments) and its temporary.
  const bool writer = rank_of(o.comm) == 0;
  const std::string checkpoint = o.out_dir + "/checkpoints/pretrain.safetensors";
  set_num_threads(stage_thread_count(o.threads, o.resume, {checkpoint}));
  Splits data;
  std::shared_ptr<Sequential> model;
  run_on_every_rank(o.comm, [&] {
    data = load_splits(o, o.train_limit, o.validation_fraction);
    model = build_model(o);
    check_model_fits(*model, data.train_all);
    if (writer) prepare_out_dir(o.out_dir, output_bytes_needed(model->parameter_count(), 7));
  });
  PretrainResult r = pretrain(*model, settings, data.split.train,
                              stage_run(o, data.split.validation, writer ? console_observer() : TrainingObserver{}, checkpoint));
  if (!writer) return;
  r.metrics["settings"]["data"] = o.data_dir;
  r.metrics["settings"]["validation_fraction"] = o.validation_fraction;
  const double test = read_test_set(o, *model, data.test, r.metrics);
  save_checkpoint(*model, o.out_dir + "/model.safetensors", stage_metadata(o.model, "pretrained"));
  write_json(o.out_dir + "/metrics.json", r.metrics);
  std::printf("wrote %s/model.safetensors and %s/metrics.json (validation accuracy %.2f%%, %s, %s)\n",
              o.out_dir.c_str(), o.out_dir.c_str(), 100.0 * r.accuracy, test_phrase(test).c_str(), format_duration(r.seconds).c_str());
}

void run_retrain_command(const CommandOptions& o, const RetrainSettings& settings, const SnapSettings& snap,
                         const std::string& weights) {
  run_on_every_rank(o.comm, [&] {  // every flag before any work, alike on every rank
    validate(settings);
    validate(snap);
    backend_for(parse_device(o.device));
  });
  // retrained.safetensors, the resume checkpoint (weights and Adam's moments) and its temporary.
  const std::string checkpoint = o.out_dir + "/checkpoints/retrain.safetensors";
  set_num_threads(stage_thread_count(o.threads, o.resume, {checkpoint}));
  const bool writer = rank_of(o.comm) == 0;
  std::shared_ptr<Sequential> model;
  Splits data;
  run_on_every_rank(o.comm, [&] {
    model = make_model(o.model, o.seed);
    load_checkpoint(*model, weights);
    model->to(parse_device(o.device));
    data = load_splits(o, o.train_limit, o.validation_fraction);
    check_model_fits(*model, data.train_all);
    if (writer) prepare_out_dir(o.out_dir, output_bytes_needed(model->parameter_count(), 7));
  });
  FigureHooks figures;  // the histograms for the metrics; no frames
  figures.model_name = o.model;
  figures.start(*model);
  RetrainResult r = retrain(*model, settings, snap, data.split.train,
                            stage_run(o, data.split.validation, writer ? figures.observer() : TrainingObserver{}, checkpoint));
  if (!writer) return;
  r.metrics["settings"]["validation_fraction"] = o.validation_fraction;
  const double test = read_test_set(o, *model, data.test, r.metrics);
  save_checkpoint(*model, o.out_dir + "/retrained.safetensors", stage_metadata(o.model, "retrained"));
  save_prior(*r.prior, o.out_dir + "/prior.safetensors");
  write_json(o.out_dir + "/metrics.json", {{"model", o.model}, {"retrained", r.metrics}});
  std::printf("wrote %s/retrained.safetensors, prior.safetensors and metrics.json (validation accuracy %.2f%%, "
              "%s)\n", o.out_dir.c_str(), 100 * r.accuracy, test_phrase(test).c_str());
}

void run_quantize_command(const CommandOptions& o, const PostprocessSettings& settings, double max_accuracy_drop,
                          const std::string& weights, const std::string& prior_path) {
  validate(settings);
  check_postprocess_device(o, settings);
  backend_for(parse_device(o.device));
  set_num_threads(choose_thread_count(o.threads).count);
  auto model = make_model(o.model, 0);
  load_checkpoint(*model, weights);
  model->to(parse_device(o.device));
  auto prior = load_prior(prior_path, prior_covered_tensors(*model));
  const Splits data = load_splits(o, o.train_limit, o.validation_fraction);
  check_model_fits(*model, data.train_all);
  prepare_out_dir(o.out_dir, output_bytes_needed(model->parameter_count(), 2));
  PostprocessResult q = postprocess(*model, *prior, settings, data.split.train,
                                    stage_run(o, data.split.validation, console_observer(), ""));
  const double test = read_test_set(o, *model, data.test, q.metrics);
  const double drop = q.accuracy_before - q.accuracy_after;
  const bool failed = drop > max_accuracy_drop;
  save_checkpoint(*model, o.out_dir + "/quantized.safetensors", stage_metadata(o.model, "quantized"));
  write_json(o.out_dir + "/metrics.json", {{"model", o.model}, {"status", failed ? "failed" : "ok"}, {"quantized", q.metrics},
                                           {"compression", {{"paper_rate", q.account.rate()}, {"paper_bits", q.account.total_bits}}}});
  std::printf("%s\nquantized: validation accuracy %.2f%% (before %.2f%%), %s, %.2f%% non-zero, "
              "%lld distinct values, rate %.1fx\n",
              account_table(q.account).c_str(), 100 * q.accuracy_after, 100 * q.accuracy_before, test_phrase(test).c_str(),
              100 * q.nonzero_fraction, static_cast<long long>(q.distinct_values), q.account.rate());
  if (failed) {
    PipelineResult partial;
    partial.retrained_validation = q.accuracy_before, partial.quantized_validation = q.accuracy_after;
    partial.quantized_accuracy = test, partial.failed = true;
    throw QuantizationFailure(quantization_failure_message(q.accuracy_before, q.accuracy_after, max_accuracy_drop), partial);
  }
}

}  // namespace sws
