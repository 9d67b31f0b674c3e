// Soft weight-sharing of a model of your own, in one call: pretrain, retrain under the mixture
// prior, quantise, write the .sws file; then read the file back into a fresh module.
//   custom_model MNIST_DIR [OUT_DIR] [TRAIN_LIMIT]
// Run the same command again after an interruption (Ctrl-C, kill -9): it continues from
// OUT_DIR/checkpoints/ and ends with the same files as an uninterrupted run. Exit status 0, or 3
// when post-processing cost more accuracy than allowed (the files are then marked FAILED).
#include <cstdio>
#include <cstdlib>
#include <string>

// The package's headers are included by floor: its include path is <prefix>/include/sws.
#include "autograd/ops.h"
#include "compress/pipeline.h"
#include "compress/sws_module.h"
#include "core/blas_kernels.h"
#include "nn/layers.h"
#include "optim/console_observer.h"

// A 784-128-64-10 ReLU perceptron; its parameters are fc1.weight, fc1.bias, ..., fc3.bias.
class Mlp : public sws::Module {
 public:
  explicit Mlp(sws::Rng& rng) {
    fc1 = register_module("fc1", std::make_shared<sws::Linear>(784, 128, rng));
    fc2 = register_module("fc2", std::make_shared<sws::Linear>(128, 64, rng));
    fc3 = register_module("fc3", std::make_shared<sws::Linear>(64, 10, rng));
  }
  sws::Tensor forward(const sws::Tensor& x) override {
    const sws::Tensor h = sws::relu((*fc1)(sws::flatten(x)));  // [B, 1, 28, 28] -> [B, 128]
    return (*fc3)(sws::relu((*fc2)(h)));                       // logits [B, 10]
  }
  std::shared_ptr<sws::Linear> fc1, fc2, fc3;
};

int main(int argc, char** argv) {
  sws::ensure_fast_blas_kernels(argv);  // may restart the program once with OpenBLAS's right kernels
  if (argc < 2) {
    std::fprintf(stderr, "usage: custom_model MNIST_DIR [OUT_DIR] [TRAIN_LIMIT]\n");
    return 2;
  }
  const std::string out = argc > 2 ? argv[2] : "custom_model_run";
  try {
    const sws::Mnist mnist = sws::load_mnist(argv[1]);
    const sws::Dataset train = sws::make_dataset(mnist.train, argc > 3 ? std::atoll(argv[3]) : 10000);
    const sws::Dataset test = sws::make_dataset(mnist.test);
    sws::Rng rng(1);
    Mlp net(rng);

    // Every setting of the three stages, starting from the library's defaults (the paper's
    // recipe). The last 10% of `train` is held out for every decision (validation_fraction);
    // retraining's loss is cross-entropy + (tau / N) C, N = the images trained on (the other 90%).
    sws::PipelineSettings settings = sws::preset_settings("mlp");
    settings.pretrain.epochs = 10;
    settings.retrain.tau = 0.03;               // a short retraining needs a stronger pull than 0.005
    settings.retrain.prior.pi_zero = 0.99;     // pi_0: the zero component's share
    settings.retrain.prior.init_sigma = 0.05;  // this net's weights are small
    sws::PipelineRun run;
    run.out_dir = out;
    run.architecture = "mlp-784-128-64-10";    // the name in model.sws: this program's code builds it
    run.resume = true;                         // continue from OUT_DIR/checkpoints/ when present
    run.threads = 0;                           // 0: OMP_NUM_THREADS, else the CPUs this process may use
    run.observer = sws::console_observer();    // progress on stderr, one line per epoch on stdout
    // A QuantizationFailure (post-processing lost more than settings.max_accuracy_drop of
    // validation accuracy) still wrote every file, the compressed one as FAILED-model.sws.
    sws::PipelineResult result;
    int status = 0;
    try {
      result = sws::compress_model(net, settings, train, test, run);
    } catch (const sws::QuantizationFailure& failure) {
      std::fprintf(stderr, "custom_model: %s\n", failure.what());
      result = failure.result();
      status = 3;
    }
    const std::string file = out + (result.failed ? "/FAILED-model.sws" : "/model.sws");

    // The file holds only tensors: a fresh module of the same code takes them back, bit-exactly.
    sws::Rng other(2);
    Mlp restored(other);
    sws::load_sws_into(restored, sws::read_sws(file), file);
    const double reread = sws::evaluate_accuracy(restored, test);
    std::printf("test accuracy: pretrained %.2f%%, retrained %.2f%%, quantized %.2f%%, read back %.2f%%\n",
                100 * result.pretrained_accuracy, 100 * result.retrained_accuracy, 100 * result.quantized_accuracy,
                100 * reread);
    std::printf("%s: %lld bytes (%.1fx smaller than float32), %.2f%% of the weights non-zero\n", file.c_str(),
                static_cast<long long>(result.file_bytes), result.file_rate, 100 * result.nonzero_fraction);
    return reread == result.quantized_accuracy ? status : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "custom_model: error: %s\n", e.what());
    return 1;
  }
}
