// The `sws` command: one subcommand per stage of the pipeline.
//   sws pretrain --model lenet5 --out runs/lenet5
//   sws eval --weights runs/lenet5/model.safetensors
#include <CLI/CLI.hpp>
#include <cstdio>

#include "core/blas_kernels.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "core/threads.h"
#include "nn/checkpoint.h"
#include "nn/dataset.h"
#include "nn/models.h"
#include "tools/pretrain.h"

namespace {

int run_eval(const std::string& model_flag, const std::string& weights, const std::string& data_dir, int threads,
             int64_t test_limit) {
  sws::set_num_threads(threads);
  std::string model_name = model_flag;
  if (model_name.empty()) {
    // The architecture is recorded in the checkpoint's metadata by sws.
    const auto meta = sws::read_safetensors(weights).metadata;
    auto it = meta.find("sws.model");
    SWS_CHECK(it != meta.end(), weights + ": no 'sws.model' in its metadata; pass --model");
    model_name = it->second;
  }
  auto model = sws::make_model(model_name, 0);
  sws::load_checkpoint(*model, weights);
  const sws::Mnist mnist = sws::load_mnist(data_dir);
  const sws::Dataset test = sws::make_dataset(mnist.test, test_limit);
  const double accuracy = sws::evaluate_accuracy(*model, test);
  std::printf("%s (%s): test accuracy %.2f%% on %lld images (error %.2f%%)\n", weights.c_str(), model_name.c_str(),
              100.0 * accuracy, static_cast<long long>(test.size()), 100.0 * (1.0 - accuracy));
  return 0;
}

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
  pretrain->add_option("--threads", pre.threads, "CPU threads")->capture_default_str();
  pretrain->add_option("--data", pre.data_dir, "folder with the four MNIST IDX files (.gz or raw)")->capture_default_str();
  pretrain->add_option("--train-limit", pre.train_limit, "use only the first N training images");
  pretrain->add_option("--test-limit", pre.test_limit, "evaluate on only the first N test images");
  pretrain->add_option("--out", pre.out_dir, "output folder: model.safetensors, metrics.json")->required();
  pretrain->footer("Example:\n  sws pretrain --model lenet5 --epochs 12 --out runs/lenet5\n"
                   "Presets (epochs/batch/lr, cosine schedule): lenet300 20/64/1e-3, lenet5 12/64/1e-3, "
                   "tutorial 12/64/1e-3.");

  std::string eval_model, eval_weights, eval_data = "data/mnist";
  int eval_threads = 2;
  int64_t eval_limit = 0;
  CLI::App* eval = app.add_subcommand("eval", "Print the MNIST test accuracy of a checkpoint");
  eval->add_option("--model", eval_model, "lenet300, lenet5 or tutorial (default: recognised from the file)")
      ->check(CLI::IsMember(sws::model_names()));
  eval->add_option("--weights", eval_weights, "a .safetensors checkpoint written by sws")->required();
  eval->add_option("--data", eval_data, "folder with the four MNIST IDX files")->capture_default_str();
  eval->add_option("--threads", eval_threads, "CPU threads")->capture_default_str();
  eval->add_option("--test-limit", eval_limit, "evaluate on only the first N test images");
  eval->footer("Example:\n  sws eval --model lenet5 --weights runs/lenet5/model.safetensors");

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
    if (*eval) return run_eval(eval_model, eval_weights, eval_data, eval_threads, eval_limit);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sws: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
