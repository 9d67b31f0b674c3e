// Using sws as a library at the lower level: an op of our own with its backward, a model using
// it, and the three stages written out by hand from the library's pieces (the prior, multi-rate
// Adam, merging, snapping, the accounting). examples/custom_model does the same in one call.
//   custom_op MNIST_DIR [TRAIN_LIMIT] [OUT.sws]
// It ends by writing the compressed model as a .sws file (default custom_op.sws) and reading it
// back into a fresh module, which must score the same.
// The op is LeCun's scaled tanh, f(x) = A tanh(B x) (A = 1.7159, B = 2/3), written from scratch:
// a forward on the host and a Node whose backward returns g * A B (1 - tanh(B x)^2). Its gradient
// is checked against central finite differences in double before anything trains.
#include <cmath>
#include <cstdio>
#include <numeric>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "compress/gaussian_mixture_prior.h"
#include "compress/paper_accounting.h"
#include "compress/quantize.h"
#include "compress/sws_module.h"
#include "core/blas_kernels.h"
#include "core/error.h"
#include "core/mnist.h"
#include "core/rng.h"
#include "nn/dataset.h"
#include "nn/layers.h"
#include "optim/adam.h"

namespace {

constexpr double kA = 1.7159, kB = 2.0 / 3.0;

// Saves tanh(B x), all that the backward needs.
struct ScaledTanhNode : sws::Node {
  sws::Tensor t;  // tanh(B x)
  std::vector<sws::Tensor> backward(const sws::Tensor& g) override {
    sws::Tensor gx = sws::Tensor::empty_like(g);
    const int64_t n = g.numel();
    if (g.dtype() == sws::DType::F64) {
      const double *gp = g.data<double>(), *tp = t.data<double>();
      double* out = gx.data<double>();
      for (int64_t i = 0; i < n; ++i) out[i] = gp[i] * kA * kB * (1 - tp[i] * tp[i]);
    } else {
      const float *gp = g.data<float>(), *tp = t.data<float>();
      float* out = gx.data<float>();
      for (int64_t i = 0; i < n; ++i) out[i] = gp[i] * float(kA * kB) * (1 - tp[i] * tp[i]);
    }
    return {gx};
  }
  void release() override { t = sws::Tensor(); }
  const char* name() const override { return "scaled_tanh"; }
};

template <typename T>
void scaled_tanh_kernel(const T* x, T* t, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) t[i] = std::tanh(T(kB) * x[i]), y[i] = T(kA) * t[i];
}

sws::Tensor scaled_tanh(const sws::Tensor& x_in) {
  // Host loops: a GPU tensor would need a CUDA kernel (or the op written with sws:: ops).
  SWS_CHECK(x_in.device().is_cpu(), "scaled_tanh runs on the CPU only, got " + sws::describe(x_in));
  const sws::Tensor x = x_in.contiguous();
  sws::Tensor t = sws::Tensor::empty_like(x), y = sws::Tensor::empty_like(x);
  if (x.dtype() == sws::DType::F64)
    scaled_tanh_kernel(x.data<double>(), t.data<double>(), y.data<double>(), x.numel());
  else
    scaled_tanh_kernel(x.data<float>(), t.data<float>(), y.data<float>(), x.numel());
  if (sws::any_requires_grad({&x_in})) {
    auto node = std::make_shared<ScaledTanhNode>();
    node->t = t;
    sws::attach(y, node, {&x_in});
  }
  return y;
}

// Central differences of sum(scaled_tanh(x) * c) against the backward, in double.
double gradient_check() {
  sws::Rng rng(3);
  std::vector<double> xv(50), cv(50);
  for (size_t i = 0; i < xv.size(); ++i) xv[i] = rng.uniform(-3, 3), cv[i] = rng.uniform(-1, 1);
  sws::Tensor x = sws::Tensor::from_vector(xv, {50}), c = sws::Tensor::from_vector(cv, {50});
  x.set_requires_grad(true);
  sws::sum(sws::mul(scaled_tanh(x), c)).backward();
  const std::vector<double> analytic = x.grad().to_double_vector();
  double worst = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    const double h = 1e-6;
    auto f = [&](double xi) { return kA * std::tanh(kB * xi) * cv[i]; };
    const double numeric = (f(xv[i] + h) - f(xv[i] - h)) / (2 * h);
    worst = std::max(worst, std::abs(numeric - analytic[i]));
  }
  return worst;
}

// A 784-100-10 perceptron with the scaled tanh between its layers.
class TanhNet : public sws::Module {
 public:
  explicit TanhNet(sws::Rng& rng) {
    fc1 = register_module("fc1", std::make_shared<sws::Linear>(784, 100, rng));
    fc2 = register_module("fc2", std::make_shared<sws::Linear>(100, 10, rng));
  }
  sws::Tensor forward(const sws::Tensor& x) override { return (*fc2)(scaled_tanh((*fc1)(sws::flatten(x)))); }
  std::shared_ptr<sws::Linear> fc1, fc2;
};

// One pass over the data in shuffled batches; `extra` adds a term to the loss (the prior).
template <typename Extra>
void train_epoch(TanhNet& net, sws::Optimizer& opt, const sws::Dataset& data, sws::Rng& rng, Extra extra) {
  const int64_t batch = 100;
  std::vector<int64_t> order(data.size());
  std::iota(order.begin(), order.end(), 0);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  sws::Tensor x = sws::Tensor::empty({batch, 1, 28, 28}), y = sws::Tensor::empty({batch}, sws::DType::I32);
  for (int64_t start = 0; start + batch <= data.size(); start += batch) {
    sws::gather_batch(data, order, start, batch, x, y);
    opt.zero_grad();
    sws::add(sws::cross_entropy(net(x), y), extra()).backward();
    opt.step();
  }
}

}  // namespace

int main(int argc, char** argv) {
  sws::ensure_fast_blas_kernels(argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: custom_op MNIST_DIR [TRAIN_LIMIT] [OUT.sws]\n");
    return 2;
  }
  try {
    const double fd_error = gradient_check();
    std::printf("scaled_tanh: largest |analytic - finite difference| = %.2e\n", fd_error);
    if (fd_error > 1e-8) return 1;

    const sws::Mnist mnist = sws::load_mnist(argv[1]);
    const sws::Dataset train = sws::make_dataset(mnist.train, argc > 2 ? std::atoll(argv[2]) : 10000);
    const sws::Dataset test = sws::make_dataset(mnist.test);
    sws::Rng rng(1);
    TanhNet net(rng);

    // Stage 1: plain training.
    sws::Adam adam({{"weights", net.named_parameters(), {}}});
    for (int epoch = 0; epoch < 3; ++epoch) train_epoch(net, adam, train, rng, [] { return sws::Tensor::zeros({}); });
    const double pretrained = sws::evaluate_accuracy(net, test);

    // Stage 2: retraining under the Gaussian-mixture prior, loss = CE + tau / N * complexity,
    // with one learning rate per group as in the paper.
    sws::PriorOptions options;
    options.pi_zero = 0.99;     // J = 17 means spread over the pretrained weights' range
    options.init_sigma = 0.05;  // this net's weights are small; a short retraining cannot narrow 0.25
    sws::GaussianMixturePrior prior(options, net.parameters());
    sws::Adam multi({{"weights", net.named_parameters(), {5e-4, {}, {}, {}, {}}},
                     {"means", {{"prior.means", prior.mu}}, {3e-4, {}, {}, {}, {}}},
                     {"log_precisions", {{"prior.log_precisions", prior.gamma}}, {1e-2, {}, {}, {}, {}}},
                     {"mixing_logits", {{"prior.mixing_logits", prior.rho}}, {1e-2, {}, {}, {}, {}}}});
    // Ten times the tutorial's tau: 3,000 steps instead of its 28,000 must pull the weights in.
    const double tau = 0.03, n = static_cast<double>(train.size());
    for (int epoch = 0; epoch < 30; ++epoch)
      train_epoch(net, multi, train, rng, [&] { return sws::mul_scalar(prior.complexity(net.parameters()), tau / n); });
    const double retrained = sws::evaluate_accuracy(net, test);

    // Stage 3: merge close components, snap each weight to its component's mean, count.
    const sws::Mixture mixture =
        sws::merge_components({prior.means(), prior.precisions(), prior.mixing_proportions()}, 1e-10);
    sws::assign_to_means(net.parameters(), mixture, sws::Assignment::MaximumAPosteriori);
    const double quantized = sws::evaluate_accuracy(net, test);
    int64_t params = 0, nonzeros = 0;
    for (const auto& s : sws::sparsity_stats(net.named_parameters())) params += s.parameters, nonzeros += s.nonzeros;
    const double rate = sws::paper_compression(net.named_parameters()).rate();
    std::printf("test accuracy: pretrained %.2f%%, retrained %.2f%%, quantized %.2f%%\n", 100 * pretrained,
                100 * retrained, 100 * quantized);
    std::printf("non-zero weights: %lld of %lld (%.2f%%), %zu mixture components left, compression %.1fx\n",
                static_cast<long long>(nonzeros), static_cast<long long>(params), 100.0 * nonzeros / params,
                mixture.size(), rate);
    // The file: the quantised parameters under an architecture name of our own, read back into a
    // freshly built (untrained) module.
    const std::string path = argc > 3 ? argv[3] : "custom_op.sws";
    sws::write_sws(path, sws::to_sws_model(net, "tanhnet-784-100-10", {{"input", "1x28x28"}, {"classes", "10"}}));
    sws::Rng other(99);
    TanhNet restored(other);
    sws::load_sws_into(restored, sws::read_sws(path), path);
    const double reread = sws::evaluate_accuracy(restored, test);
    std::printf("wrote %s; read back into a fresh module: test accuracy %.2f%%\n", path.c_str(), 100 * reread);
    return quantized > 0.8 && nonzeros < params && reread == quantized ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "custom_op: error: %s\n", e.what());
    return 1;
  }
}
