#include "tools/pipeline.h"

#include <cstdio>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/threads.h"
#include "nn/checkpoint.h"
#include "nn/models.h"
#include "tools/figures.h"
#include "tools/model_file.h"
#include "tools/output_dir.h"
#include "tools/progress.h"
#include "tools/resume.h"

namespace sws {

namespace {

std::map<std::string, std::string> stage_metadata(const std::string& model, const std::string& stage) {
  return {{"sws.model", model}, {"sws.stage", stage}};
}

void write_json(const std::string& path, const nlohmann::json& j) { write_file_atomically(path, j.dump(2) + "\n"); }

std::string percent(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f%%", 100.0 * x);
  return b;
}

std::string report(const std::string& model, const nlohmann::json& m, const PaperAccount& account) {
  std::ostringstream os;
  os << "# sws run: " << model << "\n\n"
     << "| stage | test accuracy | test error | non-zero weights | distinct non-zero values | compression rate (paper's accounting) | time |\n"
     << "|---|---|---|---|---|---|---|\n";
  auto seconds = [](const nlohmann::json& j) { return format_duration(j.value("seconds", 0.0)); };
  if (m.contains("pretrained")) {
    const double a = m["pretrained"]["test_accuracy"];
    os << "| pretrained | " << percent(a) << " | " << percent(1 - a) << " | 100% | - | 1x | " << seconds(m["pretrained"]) << " |\n";
  }
  const double r = m["retrained"]["test_accuracy"], q = m["quantized"]["test_accuracy"];
  os << "| retrained | " << percent(r) << " | " << percent(1 - r) << " | - | - | - | " << seconds(m["retrained"]) << " |\n";
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.1fx", account.rate());
  os << "| quantized | " << percent(q) << " | " << percent(1 - q) << " | " << percent(m["quantized"]["nonzero_fraction"])
     << " | " << m["quantized"]["distinct_values"] << " | " << rate << " | " << seconds(m["quantized"]) << " |\n\n";
  if (m["compression"].contains("file_bytes")) {
    char line[160];
    std::snprintf(line, sizeof line, "The real file `model.sws`: %lld bytes, **%.1fx** smaller than 32-bit floats "
                  "(`sws inspect model.sws` shows where the bits go).\n\n",
                  m["compression"]["file_bytes"].get<long long>(), m["compression"]["file_rate"].get<double>());
    os << line;
  }
  os << "## Compression, per tensor (after Han et al. 2016, as the paper counts it)\n\n"
     << account_table(account);
  return os.str();
}

}  // namespace

void run_pipeline(RunConfig c) {
  // Both training stages record the thread count in their checkpoints: one count for the run.
  c.threads = stage_thread_count(c.threads, c.resume,
                                 {c.out_dir + "/checkpoints/retrain.safetensors", c.out_dir + "/checkpoints/pretrain.safetensors"});
  set_num_threads(c.threads);
  c.retrain.model = c.model;
  c.retrain.seed = c.seed;
  c.retrain.threads = c.threads;
  c.retrain.device = c.device;
  apply_retrain_preset(c.retrain);  // validate every flag before any work
  apply_postprocess_preset(c.model, c.postprocess);
  PretrainConfig pre;
  pre.model = c.model, pre.epochs = c.pretrain_epochs, pre.seed = c.seed, pre.threads = c.threads, pre.device = c.device;
  pre.data_dir = c.data_dir, pre.out_dir = c.out_dir, pre.train_limit = c.train_limit, pre.test_limit = c.test_limit;
  // Each training stage writes its state after every epoch; --resume continues from there.
  pre.checkpoint = c.out_dir + "/checkpoints/pretrain.safetensors", pre.resume = c.resume;
  c.retrain.checkpoint = c.out_dir + "/checkpoints/retrain.safetensors", c.retrain.resume = c.resume;
  if (c.figures) c.retrain.frames_dir = c.out_dir, c.retrain.frame_every = c.frame_every;
  apply_pretrain_preset(pre);
  validate(pre);
  // Three stage checkpoints, two resume checkpoints (weights and Adam's moments) and the temporary
  // of one rewrite; about 150 kB of figures per retraining epoch and the film.
  const uint64_t figure_bytes = c.figures ? static_cast<uint64_t>(c.retrain.epochs) * 150000u + 2000000u : 0;
  prepare_out_dir(c.out_dir, output_bytes_needed(make_model(c.model, 0)->parameter_count(), 12, figure_bytes));
  const Mnist mnist = load_mnist(c.data_dir);
  const Dataset train = make_dataset(mnist.train, c.train_limit), test = make_dataset(mnist.test, c.test_limit);

  nlohmann::json metrics = {{"model", c.model}};
  std::shared_ptr<Sequential> model;
  if (c.from_pretrained.empty()) {
    std::printf("== stage 1/3: pretraining %s\n", c.model.c_str());
    PretrainResult p = pretrain(pre, train, test);
    model = p.model;
    metrics["pretrained"] = p.metrics;
  } else {
    model = make_model(c.model, c.seed);
    load_checkpoint(*model, c.from_pretrained);
    model->to(parse_device(c.device));
    const double a = evaluate_accuracy(*model, test);
    metrics["pretrained"] = {{"test_accuracy", a}, {"from", c.from_pretrained}, {"seconds", 0.0}};
    std::printf("== stage 1/3: loaded %s (test accuracy %.2f%%)\n", c.from_pretrained.c_str(), 100 * a);
  }
  save_checkpoint(*model, c.out_dir + "/pretrained.safetensors", stage_metadata(c.model, "pretrained"));

  std::printf("== stage 2/3: retraining under the mixture prior\n");
  RetrainResult r = retrain(c.retrain, *model, train, test);
  metrics["retrained"] = r.metrics;
  save_checkpoint(*model, c.out_dir + "/retrained.safetensors", stage_metadata(c.model, "retrained"));
  save_prior(*r.prior, c.out_dir + "/prior.safetensors");

  std::printf("== stage 3/3: post-processing\n");
  PostprocessResult q = postprocess(*model, *r.prior, train, test, c.postprocess);
  metrics["quantized"] = q.metrics;
  metrics["compression"] = {{"paper_rate", q.account.rate()}, {"paper_bits", q.account.total_bits},
                            {"parameters", q.account.parameters}};
  save_checkpoint(*model, c.out_dir + "/quantized.safetensors", stage_metadata(c.model, "quantized"));
  // The real file (docs/FORMAT.md): its size, and the rate against 32-bit floats.
  const std::string sws_bytes = encode_sws(mnist_sws_model(*model, c.model));
  write_file_atomically(c.out_dir + "/model.sws", sws_bytes);
  metrics["compression"]["file_bytes"] = static_cast<int64_t>(sws_bytes.size());
  metrics["compression"]["file_rate"] = 4.0 * q.account.parameters / static_cast<double>(sws_bytes.size());
  write_json(c.out_dir + "/metrics.json", metrics);
  if (c.figures) {
    // The figures read the run's files back, as `sws plot` does.
    double per_epoch_figures = 0, per_epoch_training = 0;
    for (const auto& e : r.metrics["epochs"])
      per_epoch_figures += e.value("figure_seconds", 0.0), per_epoch_training += e.value("train_seconds", 0.0);
    const double final_seconds = draw_run_figures(c.out_dir, false);
    metrics["figures"] = {{"folder", c.out_dir + "/figures"},
                          {"per_epoch_seconds", per_epoch_figures / std::max<size_t>(1, r.metrics["epochs"].size())},
                          {"fraction_of_retraining", per_epoch_training > 0 ? per_epoch_figures / per_epoch_training : 0.0},
                          {"final_seconds", final_seconds}};
    write_json(c.out_dir + "/metrics.json", metrics);
    std::printf("figures: %s/figures (per epoch %.0f ms = %.2f%% of the epoch's training; final set %.1f s)\n",
                c.out_dir.c_str(), 1e3 * metrics["figures"]["per_epoch_seconds"].get<double>(),
                100 * metrics["figures"]["fraction_of_retraining"].get<double>(), final_seconds);
  }
  const std::string md = report(c.model, metrics, q.account);
  write_file_atomically(c.out_dir + "/report.md", md);
  std::printf("\n%s\nwrote %s/{pretrained,retrained,quantized}.safetensors, model.sws, prior.safetensors, metrics.json, report.md\n",
              md.c_str(), c.out_dir.c_str());
}

void run_retrain_command(RetrainConfig c, const std::string& weights, const std::string& data_dir,
                         const std::string& out_dir, int64_t train_limit, int64_t test_limit) {
  apply_retrain_preset(c);
  // retrained.safetensors, the resume checkpoint (weights and Adam's moments) and its temporary.
  prepare_out_dir(out_dir, output_bytes_needed(make_model(c.model, 0)->parameter_count(), 7));
  auto model = make_model(c.model, c.seed);
  load_checkpoint(*model, weights);
  model->to(parse_device(c.device));
  const Mnist mnist = load_mnist(data_dir);
  c.checkpoint = out_dir + "/checkpoints/retrain.safetensors";
  RetrainResult r = retrain(c, *model, make_dataset(mnist.train, train_limit), make_dataset(mnist.test, test_limit));
  save_checkpoint(*model, out_dir + "/retrained.safetensors", stage_metadata(c.model, "retrained"));
  save_prior(*r.prior, out_dir + "/prior.safetensors");
  write_json(out_dir + "/metrics.json", {{"model", c.model}, {"retrained", r.metrics}});
  std::printf("wrote %s/retrained.safetensors, prior.safetensors and metrics.json (test accuracy %.2f%%)\n",
              out_dir.c_str(), 100 * r.test_accuracy);
}

void run_quantize_command(const std::string& model_name, const std::string& weights, const std::string& prior_path,
                          const std::string& data_dir, const std::string& out_dir, int64_t test_limit,
                          PostprocessConfig config, const std::string& device) {
  apply_postprocess_preset(model_name, config);
  prepare_out_dir(out_dir, output_bytes_needed(make_model(model_name, 0)->parameter_count(), 2));
  auto model = make_model(model_name, 0);
  load_checkpoint(*model, weights);
  model->to(parse_device(device));
  auto prior = load_prior(prior_path, prior_covered_tensors(*model));
  const Mnist mnist = load_mnist(data_dir);
  PostprocessResult q = postprocess(*model, *prior, make_dataset(mnist.train), make_dataset(mnist.test, test_limit), config);
  save_checkpoint(*model, out_dir + "/quantized.safetensors", stage_metadata(model_name, "quantized"));
  write_json(out_dir + "/metrics.json", {{"model", model_name}, {"quantized", q.metrics},
                                         {"compression", {{"paper_rate", q.account.rate()}, {"paper_bits", q.account.total_bits}}}});
  std::printf("%s\nquantized: test accuracy %.2f%% (before %.2f%%), %.2f%% non-zero, %lld distinct values, rate %.1fx\n",
              account_table(q.account).c_str(), 100 * q.accuracy_after, 100 * q.accuracy_before, 100 * q.nonzero_fraction,
              static_cast<long long>(q.distinct_values), q.account.rate());
}

}  // namespace sws
