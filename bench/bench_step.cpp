// Times one training step (zero_grad, forward, cross-entropy, backward, Adam) for the three
// models, as ../shared/peer/torch_peer.py does for PyTorch, and prints JSON lines that join
// with the peer's on (kind, model, batch, threads). Inputs are random MNIST-shaped tensors.
// With --prior it times the retraining step instead (kind "retrain_step"): the same plus the
// mixture prior's complexity term over every parameter and four-group Adam, as `sws retrain`.
// With --device cuda the model, its inputs and the prior live on the GPU (a CUDA build with a
// visible GPU; otherwise it prints why and exits 77) and bench/torch_gpu_peer.py is the peer.
// Every line carries "device": "cpu" or "cuda".
//   bench_step [--threads N (default: OMP_NUM_THREADS, else the CPUs available)] [--reps 50] [--models lenet300 lenet5 tutorial] [--batch 64 256] [--prior]
//              [--device cpu|cuda]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#include <algorithm>

#include "autograd/ops.h"
#include "bench/bench_device.h"
#include "core/backend.h"
#include "core/blas_kernels.h"
#include "core/device.h"
#include "core/threads.h"
#include "nn/layers.h"
#include "nn/models.h"
#include "compress/gaussian_mixture_prior.h"
#include "optim/adam.h"

using namespace sws;

namespace {

// Multiply-adds of one training step for one image, walking the layers with the shape: the
// forward pass, the weight gradient of every layer, and the input gradient of every layer
// but the first (the images need none).
double step_macs(const Sequential& model) {
  int64_t c = 1, h = 28, w = 28;
  double macs = 0, first = -1;
  for (const auto& [name, layer] : model.children()) {
    if (auto* conv = dynamic_cast<const Conv2d*>(layer.get())) {
      const int64_t o = conv->weight.size(0), k = conv->weight.size(2);
      const int64_t oh = (h + 2 * conv->padding - k) / conv->stride + 1, ow = (w + 2 * conv->padding - k) / conv->stride + 1;
      const double layer = static_cast<double>(o * oh * ow * c * k * k);
      macs += layer;
      if (first < 0) first = layer;
      c = o, h = oh, w = ow;
    } else if (auto* pool = dynamic_cast<const MaxPool2d*>(layer.get())) {
      h = (h - pool->kernel) / pool->stride + 1;
      w = (w - pool->kernel) / pool->stride + 1;
    } else if (auto* fc = dynamic_cast<const Linear*>(layer.get())) {
      const double layer = static_cast<double>(fc->weight.size(0) * fc->weight.size(1));
      macs += layer;
      if (first < 0) first = layer;
    }
  }
  return 3 * macs - first;
}

// Waits until the device has run all the work queued so far, so that the clock read after it
// covers that work: a host read of one element of `t` (a tensor the step wrote last). The CUDA
// backend issues every kernel, cuBLAS and cuDNN call on the legacy default stream and copies with
// a synchronous cudaMemcpy (cuda/cuda_backend.h, "Ordering"), and a synchronous device-to-host
// copy on that stream starts only after all earlier work on it, so returning from this read
// means the step is done. Nothing to wait for on the CPU (the ops are synchronous there).
void wait_for_device(const Tensor& t) {
  if (t.device().is_cpu()) return;
  const Tensor flat = t.view({-1});
  (void)flat.rows(flat.numel() - 1, 1).to_float_vector();  // 4 bytes device -> host
}

}  // namespace

int main(int argc, char** argv) {
  ensure_fast_blas_kernels(argv);
  int threads = 0, reps = 50;
  bool with_prior = false;
  std::vector<std::string> models = model_names();
  std::vector<int64_t> batches = {64, 256};
  std::string device_text = "cpu";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto list = [&](auto&& push) {
      while (i + 1 < argc && argv[i + 1][0] != '-') push(argv[++i]);
    };
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (a == "--models") { models.clear(); list([&](const char* s) { models.push_back(s); }); }
    else if (a == "--prior") with_prior = true;
    else if (a == "--batch") { batches.clear(); list([&](const char* s) { batches.push_back(std::atoll(s)); }); }
    else if (a == "--device" && i + 1 < argc) device_text = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_step [--threads N] [--reps N] [--models ...] [--batch ...] [--prior] [--device cpu|cuda]\n");
      return 2;
    }
  }
  Device device;
  if (int rc = open_bench_device("bench_step", device_text, device)) return rc;
  const char* device_kind = device.is_cpu() ? "cpu" : "cuda";
  threads = choose_thread_count(threads).count;
  set_num_threads(threads);
  Rng rng(0);
  try {
    for (const std::string& name : models) {
      for (int64_t batch : batches) {
        auto model = make_model(name, 0);
        model->to(device);  // in place: the handles below, the prior and Adam all see device tensors
        const std::vector<Tensor> weights = model->parameters();
        GaussianMixturePrior prior(PriorOptions{}, weights);
        std::vector<AdamGroup> groups{{"weights", model->named_parameters(), {5e-4, {}, {}, {}, {}}}};
        if (with_prior)
          for (const auto& [pname, p] : prior.named_parameters()) groups.push_back({pname, {{pname, p}}, {3e-3, {}, {}, {}, {}}});
        Adam adam(groups);
        const double tau_over_n = 0.005 / 60000;
        std::vector<float> pixels(batch * 28 * 28);
        for (float& p : pixels) p = static_cast<float>(rng.uniform());
        std::vector<int32_t> labels(batch);
        for (int32_t& l : labels) l = static_cast<int32_t>(rng.below(10));
        const Tensor x = Tensor::from_vector(pixels, {batch, 1, 28, 28}, device);
        const Tensor y = Tensor::from_vector(labels, {batch}, device);
        // Adam updates the prior's tensors after the weights (the groups' order), so the last
        // group's tensor is the step's last write; on the legacy default stream any read would
        // wait for everything anyway.
        const Tensor last_written = groups.back().params.back().second;
        std::vector<double> times;
        rusage usage_before{};
        for (int r = 0; r < 10 + reps; ++r) {
          if (r == 10) getrusage(RUSAGE_SELF, &usage_before);
          const auto t0 = std::chrono::steady_clock::now();
          adam.zero_grad();
          Tensor loss = cross_entropy((*model)(x), y);
          if (with_prior) loss = add(loss, mul_scalar(prior.complexity(weights), tau_over_n));
          loss.backward();
          adam.step();
          wait_for_device(last_written);
          const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          if (r >= 10) times.push_back(dt);
        }
        // Context switches of all the process's threads over the timed steps: a voluntary one is a
        // thread going to sleep or yielding (core/thread_pool.h), an involuntary one a thread
        // preempted by another program.
        rusage usage_after{};
        getrusage(RUSAGE_SELF, &usage_after);
        const double sleeps = static_cast<double>(usage_after.ru_nvcsw - usage_before.ru_nvcsw) / reps;
        const double preempted = static_cast<double>(usage_after.ru_nivcsw - usage_before.ru_nivcsw) / reps;
        const ProcessThreads seen = process_threads();  // the pool's workers, and no one else's
        std::sort(times.begin(), times.end());
        const double median = times[times.size() / 2];
        const double flops = 2.0 * step_macs(*model) * batch;
        std::printf("{\"kind\": \"%s\", \"impl\": \"sws\", \"model\": \"%s\", \"batch\": %lld, \"threads\": %d, "
                    "\"device\": \"%s\", \"median_s\": %.6g, \"min_s\": %.6g, \"max_s\": %.6g, \"gflops\": %.1f, "
                    "\"sleeps_per_step\": %.1f, \"preemptions_per_step\": %.1f, \"pool_workers\": %d, \"other_threads\": %d}\n",
                    with_prior ? "retrain_step" : "step", name.c_str(), static_cast<long long>(batch), threads, device_kind,
                    median, times.front(), times.back(), flops / median / 1e9, sleeps, preempted, seen.workers, seen.others);
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_step: error on %s: %s\n", device.name().c_str(), e.what());
    return 1;
  }
  return 0;
}
