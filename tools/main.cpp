// The `sws` command: one subcommand per stage of the pipeline, and `run` for all of them.
//   sws run --model lenet5 --out runs/lenet5
//   sws pretrain --model lenet5 --out runs/lenet5-pre
//   sws retrain --model lenet5 --weights runs/lenet5-pre/model.safetensors --out runs/lenet5-sws
//   sws quantize --model lenet5 --weights runs/lenet5-sws/retrained.safetensors
//                --prior runs/lenet5-sws/prior.safetensors --out runs/lenet5-sws
//   sws eval --weights runs/lenet5/quantized.safetensors
#include <CLI/CLI.hpp>
#include <cstdio>

#include "core/blas_kernels.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "core/threads.h"
#include "nn/checkpoint.h"
#include "nn/dataset.h"
#include "nn/models.h"
#include "tools/figures.h"
#include "tools/model_file.h"
#include "tools/pipeline.h"

namespace {

int run_eval(const std::string& model_flag, const std::string& weights, const std::string& data_dir, int threads,
             int64_t test_limit, const std::string& device) {
  sws::set_num_threads(sws::choose_thread_count(threads).count);
  std::string model_name;
  auto model = sws::load_model_file(weights, model_flag, &model_name);  // a checkpoint or a .sws file
  model->to(sws::parse_device(device));
  const sws::Mnist mnist = sws::load_mnist(data_dir);
  const sws::Dataset test = sws::make_dataset(mnist.test, test_limit);
  const double accuracy = sws::evaluate_accuracy(*model, test);
  std::printf("%s (%s): test accuracy %.2f%% on %lld images (error %.2f%%)\n", weights.c_str(), model_name.c_str(),
              100.0 * accuracy, static_cast<long long>(test.size()), 100.0 * (1.0 - accuracy));
  return 0;
}

// The retraining flags shared by `sws retrain` and `sws run`; 0 means "the model's preset".
void add_retrain_flags(CLI::App* app, sws::RetrainConfig& r, const std::string& epochs_flag) {
  app->add_option(epochs_flag, r.epochs, "retraining epochs (preset 30; lenet300 100)");
  app->add_option("--batch", r.batch, "retraining batch (preset 256)");
  app->add_option("--tau", r.tau, "weight of the complexity term (preset: lenet300 0.005, lenet5 0.015, tutorial 0.003)");
  app->add_option("--tau-warmup", r.tau_warmup_epochs, "epochs over which tau rises linearly (preset 0)");
  app->add_option("--pi0", r.pi0, "mixing proportion of the zero component (preset 0.999; tutorial 0.99)");
  app->add_flag("--learn-pi0", r.learn_pi0, "learn pi_0 (from --pi0) under a Beta hyper-prior");
  app->add_option("--pi0-concentration", r.pi0_concentration,
                  "kappa of that Beta(1 + kappa pi0, 1 + kappa (1 - pi0)) hyper-prior (default 1000)");
  app->add_option("--components", r.components, "mixture components J, zero included (preset 17; tutorial 16)");
  app->add_option("--init", r.init, "means over the pretrained weights' range (range) or +-0.6 (fixed)");
  app->add_option("--lr-weights", r.lr_weights, "Adam rate of the weights (preset 5e-4)");
  app->add_option("--lr-means", r.lr_means, "Adam rate of the means (preset 1e-4)");
  app->add_option("--lr-log-precisions", r.lr_log_precisions, "Adam rate of the log-precisions (preset 3e-3)");
  app->add_option("--lr-mixing", r.lr_mixing, "Adam rate of the mixing logits (preset 3e-3)");
}

// Flags whose 0 means "preset" inside the configuration must not be given as 0 explicitly.
void check_explicit(const CLI::App* app, const sws::RetrainConfig& r, const std::string& epochs_flag) {
  SWS_CHECK(!app->count(epochs_flag) || r.epochs >= 1, epochs_flag + " must be at least 1");
  SWS_CHECK(!app->count("--batch") || r.batch >= 1, "--batch must be at least 1");
  SWS_CHECK(!app->count("--tau") || r.tau >= 0, "--tau must be >= 0");
  SWS_CHECK(!app->count("--pi0") || (r.pi0 > 0 && r.pi0 < 1), "--pi0 must lie strictly between 0 and 1");
  SWS_CHECK(!app->count("--components") || r.components >= 2, "--components (J) must be at least 2");
  for (const char* flag : {"--lr-weights", "--lr-means", "--lr-log-precisions", "--lr-mixing"})
    SWS_CHECK(!app->count(flag) || app->get_option(flag)->as<double>() > 0, std::string(flag) + " must be positive");
}

// The --threads flag of every command that computes.
constexpr const char* kThreadsHelp =
    "CPU threads (default: OMP_NUM_THREADS, else the CPUs this process may use: affinity mask and cgroup quota)";

// The --device flag of every command that computes.
constexpr const char* kDeviceHelp = "cpu, or cuda (= cuda:0; needs a CUDA build and a visible GPU)";

}  // namespace

int main(int argc, char** argv) {
  sws::ensure_fast_blas_kernels(argv);
  CLI::App app{"sws: compress neural networks by soft weight-sharing (Ullrich, Meeds & Welling, 2017)"};
  app.require_subcommand(1);

  sws::PretrainConfig pre;
  CLI::App* pretrain = app.add_subcommand("pretrain", "Stage 1: train a network on MNIST with cross-entropy and Adam");
  pretrain->add_option("--model", pre.model, "lenet300, lenet5 or tutorial")
      ->check(CLI::IsMember(sws::model_names()))->capture_default_str();
  pretrain->add_option("--epochs", pre.epochs, "passes over the training set (default: the model's preset)");
  pretrain->add_option("--batch", pre.batch, "images per step (default: the model's preset)");
  pretrain->add_option("--lr", pre.lr, "Adam's learning rate (default: the model's preset)");
  pretrain->add_option("--schedule", pre.schedule, "learning-rate schedule: cosine (default) or constant");
  pretrain->add_option("--seed", pre.seed, "seed of initialisation and data order")->capture_default_str();
  pretrain->add_option("--threads", pre.threads, kThreadsHelp);
  pretrain->add_option("--device", pre.device, kDeviceHelp)->capture_default_str();
  pretrain->add_option("--data", pre.data_dir, "folder with the four MNIST IDX files (.gz or raw)")->capture_default_str();
  pretrain->add_option("--train-limit", pre.train_limit, "use only the first N training images");
  pretrain->add_option("--test-limit", pre.test_limit, "evaluate on only the first N test images");
  pretrain->add_option("--out", pre.out_dir, "output folder: model.safetensors, metrics.json")->required();
  pretrain->add_flag("--resume", pre.resume, "continue from OUT/checkpoints/ (written after every epoch)");
  pretrain->footer("Example:\n  sws pretrain --model lenet5 --epochs 12 --out runs/lenet5\n"
                   "Presets (epochs/batch/lr, cosine schedule): lenet300 20/64/1e-3, lenet5 20/64/1e-3, "
                   "tutorial 12/64/1e-3.");

  std::string eval_model, eval_weights, eval_data = "data/mnist";
  int eval_threads = 0;
  std::string eval_device = "cpu";
  int64_t eval_limit = 0;
  CLI::App* eval = app.add_subcommand("eval", "Print the MNIST test accuracy of a checkpoint");
  eval->add_option("--model", eval_model, "lenet300, lenet5 or tutorial (default: recognised from the file)")
      ->check(CLI::IsMember(sws::model_names()));
  eval->add_option("FILE,--weights", eval_weights, "a .safetensors checkpoint or a .sws file written by sws")->required();
  eval->add_option("--data", eval_data, "folder with the four MNIST IDX files")->capture_default_str();
  eval->add_option("--threads", eval_threads, kThreadsHelp);
  eval->add_option("--device", eval_device, kDeviceHelp)->capture_default_str();
  eval->add_option("--test-limit", eval_limit, "evaluate on only the first N test images");
  eval->footer("Example:\n  sws eval --model lenet5 --weights runs/lenet5/model.safetensors");

  sws::RetrainConfig re;
  std::string re_weights, re_data = "data/mnist", re_out;
  int64_t re_train_limit = 0, re_test_limit = 0;
  CLI::App* retrain = app.add_subcommand("retrain", "Stage 2: retrain a checkpoint under the Gaussian-mixture prior");
  retrain->add_option("--model", re.model, "lenet300, lenet5 or tutorial")->check(CLI::IsMember(sws::model_names()))->capture_default_str();
  retrain->add_option("--weights", re_weights, "the pretrained checkpoint")->required();
  add_retrain_flags(retrain, re, "--epochs");
  retrain->add_option("--seed", re.seed, "seed of the data order")->capture_default_str();
  retrain->add_option("--threads", re.threads, kThreadsHelp);
  retrain->add_option("--device", re.device, kDeviceHelp)->capture_default_str();
  retrain->add_option("--data", re_data, "folder with the four MNIST IDX files")->capture_default_str();
  retrain->add_option("--train-limit", re_train_limit, "use only the first N training images");
  retrain->add_option("--test-limit", re_test_limit, "evaluate on only the first N test images");
  retrain->add_option("--out", re_out, "output folder: retrained.safetensors, prior.safetensors, metrics.json")->required();
  retrain->add_flag("--resume", re.resume, "continue from OUT/checkpoints/ (written after every epoch)");
  retrain->footer("Example:\n  sws retrain --model lenet5 --weights runs/lenet5/model.safetensors --out runs/lenet5-sws");

  std::string q_model = "lenet5", q_weights, q_prior, q_data = "data/mnist", q_out, q_rule = "map", q_device = "cpu";
  int64_t q_test_limit = 0;
  int q_threads = 0;
  sws::PostprocessConfig q_config;
  CLI::App* quantize = app.add_subcommand("quantize", "Stage 3: merge components, snap weights to the means, account");
  quantize->add_option("--model", q_model, "lenet300, lenet5 or tutorial")->check(CLI::IsMember(sws::model_names()))->capture_default_str();
  quantize->add_option("--weights", q_weights, "the retrained checkpoint")->required();
  quantize->add_option("--prior", q_prior, "the prior learned with it (prior.safetensors)")->required();
  quantize->add_option("--merge-kl", q_config.merge_kl, "merge components whose KL divergence is below this")->capture_default_str();
  quantize->add_option("--assign", q_rule, "map (with mixing proportions) or ml")->check(CLI::IsMember({"map", "ml"}))->capture_default_str();
  quantize->add_option("--finetune-epochs", q_config.finetune.epochs,
                      "then fine-tune the shared values for N epochs, assignments fixed (0: off; preset: lenet5 1, others 0)");
  quantize->add_option("--finetune-lr", q_config.finetune.lr, "Adam rate of that fine-tuning")->capture_default_str();
  quantize->add_option("--data", q_data, "folder with the four MNIST IDX files")->capture_default_str();
  quantize->add_option("--test-limit", q_test_limit, "evaluate on only the first N test images");
  quantize->add_option("--threads", q_threads, kThreadsHelp);
  quantize->add_option("--device", q_device, kDeviceHelp)->capture_default_str();
  quantize->add_option("--out", q_out, "output folder: quantized.safetensors, metrics.json")->required();
  quantize->footer("Example:\n  sws quantize --model lenet5 --weights runs/lenet5-sws/retrained.safetensors "
                   "--prior runs/lenet5-sws/prior.safetensors --out runs/lenet5-sws");

  sws::RunConfig run_config;
  std::string run_rule = "map";
  CLI::App* run = app.add_subcommand("run", "All three stages: pretrain, retrain under the prior, post-process");
  run->add_option("--model", run_config.model, "lenet300, lenet5 or tutorial")->check(CLI::IsMember(sws::model_names()))->capture_default_str();
  run->add_option("--out", run_config.out_dir, "output folder")->required();
  run->add_option("--from-pretrained", run_config.from_pretrained, "start from this checkpoint (skips stage 1)");
  run->add_flag("--resume", run_config.resume, "continue an interrupted run from OUT/checkpoints/ (same flags)");
  bool no_figures = false;
  run->add_flag("--no-figures", no_figures, "do not draw OUT/figures/ (histograms, trajectories, scatter, film)");
  run->add_option("--frame-every", run_config.frame_every, "draw the film's frame every k epochs")->capture_default_str();
  run->add_option("--pretrain-epochs", run_config.pretrain_epochs, "pretraining epochs (the model's preset)");
  add_retrain_flags(run, run_config.retrain, "--retrain-epochs");
  run->add_option("--merge-kl", run_config.postprocess.merge_kl, "merge components whose KL divergence is below this")->capture_default_str();
  run->add_option("--finetune-epochs", run_config.postprocess.finetune.epochs,
                 "fine-tune the shared values for N epochs after quantising, assignments fixed (0: off; preset: lenet5 1, others 0)");
  run->add_option("--finetune-lr", run_config.postprocess.finetune.lr, "Adam rate of that fine-tuning")->capture_default_str();
  run->add_option("--assign", run_rule, "map or ml")->check(CLI::IsMember({"map", "ml"}))->capture_default_str();
  run->add_option("--seed", run_config.seed, "seed of initialisation and data order")->capture_default_str();
  run->add_option("--threads", run_config.threads, kThreadsHelp);
  run->add_option("--device", run_config.device, kDeviceHelp)->capture_default_str();
  run->add_option("--data", run_config.data_dir, "folder with the four MNIST IDX files")->capture_default_str();
  run->add_option("--train-limit", run_config.train_limit, "use only the first N training images");
  run->add_option("--test-limit", run_config.test_limit, "evaluate on only the first N test images");
  run->footer("Example:\n  sws run --model lenet5 --out runs/lenet5\n  sws run --model tutorial --from-pretrained "
              "runs/tutorial/pretrained.safetensors --retrain-epochs 10 --out runs/tutorial-short");

  std::string compress_in, compress_out;
  CLI::App* compress = app.add_subcommand("compress", "Write a quantised model as a .sws file (docs/FORMAT.md)");
  compress->add_option("INPUT", compress_in, "a run folder (its quantized.safetensors) or a quantised checkpoint")->required();
  compress->add_option("-o,--output", compress_out, "the .sws file to write")->required();
  compress->footer("Example:\n  sws compress runs/lenet5 -o lenet5.sws");
  std::string decompress_in, decompress_out;
  CLI::App* decompress = app.add_subcommand("decompress", "Expand a .sws file into a dense safetensors checkpoint");
  decompress->add_option("INPUT", decompress_in, "the .sws file")->required();
  decompress->add_option("-o,--output", decompress_out, "the .safetensors file to write")->required();
  decompress->footer("Example:\n  sws decompress lenet5.sws -o lenet5-dense.safetensors");
  std::string inspect_in;
  bool inspect_json = false;
  CLI::App* inspect = app.add_subcommand("inspect", "Show what each tensor of a .sws file costs");
  inspect->add_option("FILE", inspect_in, "the .sws file")->required();
  inspect->add_flag("--json", inspect_json, "print JSON instead of a table");
  inspect->footer("Example:\n  sws inspect lenet5.sws --json");

  std::string plot_dir;
  bool plot_no_frames = false;
  CLI::App* plot = app.add_subcommand("plot", "Redraw the figures of a finished run from its files");
  plot->add_option("RUN_DIR", plot_dir, "the folder of a finished `sws run`")->required();
  plot->add_flag("--no-frames", plot_no_frames, "skip figures/frames/*.png (the GIF is still drawn)");
  plot->footer("Example:\n  sws plot runs/lenet5   (writes runs/lenet5/figures/)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (*pretrain) {
      // 0 means "the model's preset" inside PretrainConfig, so an explicit 0 is refused here.
      SWS_CHECK(!pretrain->count("--epochs") || pre.epochs >= 1, "--epochs must be at least 1, got " + std::to_string(pre.epochs));
      SWS_CHECK(!pretrain->count("--batch") || pre.batch >= 1, "--batch must be at least 1, got " + std::to_string(pre.batch));
      SWS_CHECK(!pretrain->count("--lr") || pre.lr > 0, "--lr must be positive, got " + std::to_string(pre.lr));
      sws::run_pretrain(pre);
      return 0;
    }
    if (*compress) return sws::compress_command(compress_in, compress_out) > 0 ? 0 : 1;
    if (*decompress) return sws::decompress_command(decompress_in, decompress_out), 0;
    if (*inspect) return sws::inspect_command(inspect_in, inspect_json), 0;
    if (*plot) {
      const double seconds = sws::draw_run_figures(plot_dir, !plot_no_frames);
      std::printf("wrote %s/figures/ in %.1f s\n", plot_dir.c_str(), seconds);
      return 0;
    }
    if (*eval) return run_eval(eval_model, eval_weights, eval_data, eval_threads, eval_limit, eval_device);
    if (*retrain) {
      check_explicit(retrain, re, "--epochs");
      sws::run_retrain_command(re, re_weights, re_data, re_out, re_train_limit, re_test_limit);
      return 0;
    }
    if (*quantize) {
      SWS_CHECK(!quantize->count("--finetune-epochs") || q_config.finetune.epochs >= 0, "--finetune-epochs must be >= 0");
      sws::set_num_threads(sws::choose_thread_count(q_threads).count);
      q_config.rule = q_rule == "ml" ? sws::Assignment::MaximumLikelihood : sws::Assignment::MaximumAPosteriori;
      sws::run_quantize_command(q_model, q_weights, q_prior, q_data, q_out, q_test_limit, q_config, q_device);
      return 0;
    }
    if (*run) {
      check_explicit(run, run_config.retrain, "--retrain-epochs");
      SWS_CHECK(!run->count("--pretrain-epochs") || run_config.pretrain_epochs >= 1, "--pretrain-epochs must be at least 1");
      run_config.figures = !no_figures;
      SWS_CHECK(!run->count("--finetune-epochs") || run_config.postprocess.finetune.epochs >= 0, "--finetune-epochs must be >= 0");
      run_config.postprocess.rule = run_rule == "ml" ? sws::Assignment::MaximumLikelihood : sws::Assignment::MaximumAPosteriori;
      sws::run_pipeline(run_config);
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sws: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
