#include "compress/codebook_finetune.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "autograd/ops.h"
#include "core/error.h"
#include "core/rng.h"

namespace sws {

void finetune_codebook(Module& model, const Dataset& train, const CodebookFinetuneSettings& c,
                       const TrainingObserver& observer) {
  if (c.epochs <= 0) return;
  SWS_CHECK(c.batch >= 1 && c.lr > 0, "codebook fine-tuning needs a positive batch and learning rate");
  const std::vector<Tensor> params = model.parameters();
  // The codebook: the distinct non-zero values over the whole model; index -1 marks a zero.
  std::map<float, int32_t> index_of;
  for (const Tensor& p : params)
    for (float v : p.to_float_vector())
      if (v != 0.0f) index_of.emplace(v, 0);
  std::vector<double> codebook;
  for (auto& [v, k] : index_of) k = static_cast<int32_t>(codebook.size()), codebook.push_back(v);
  const size_t K = codebook.size();
  if (K == 0) return;
  std::vector<std::vector<int32_t>> indices;
  for (const Tensor& p : params) {
    SWS_CHECK(p.dtype() == DType::F32 && p.is_contiguous(), "codebook fine-tuning runs on contiguous F32 parameters");
    std::vector<int32_t> idx(p.numel());
    const std::vector<float> w = p.to_float_vector();
    for (int64_t i = 0; i < p.numel(); ++i) idx[i] = w[i] == 0.0f ? -1 : index_of.at(w[i]);
    indices.push_back(std::move(idx));
  }
  // The step runs on the model's device; the K shared values are updated on the host (a GPU's
  // gradients come to the host and the new weights go back, once per step).
  const Device device = params.front().device();
  std::vector<Tensor> host_weights;
  for (const Tensor& p : params) host_weights.push_back(device.is_cpu() ? p : Tensor::empty(p.shape(), DType::F32));
  // Adam on the K values (PyTorch's defaults apart from the rate).
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  std::vector<double> m(K, 0.0), v(K, 0.0), g(K);
  int64_t t = 0;
  Rng rng(c.seed ^ 0xc0deb00cULL);
  const int64_t n = train.size(), steps = (n + c.batch - 1) / c.batch;
  std::vector<int64_t> shape = train.images.shape();  // [N, ...] -> [batch, ...]
  auto batch_tensors = [&](int64_t count, Tensor& x, Tensor& y) {
    shape[0] = count;
    x = Tensor::empty(shape, DType::F32, device), y = Tensor::empty({count}, DType::I32, device);
  };
  Tensor x, y;
  batch_tensors(std::min(c.batch, n), x, y);
  for (int64_t epoch = 1; epoch <= c.epochs; ++epoch) {
    const std::vector<int64_t> order = rng.permutation(n);
    for (int64_t s = 0; s < steps; ++s) {
      const int64_t first = s * c.batch, count = std::min(c.batch, n - first);
      if (count != x.size(0)) batch_tensors(count, x, y);
      gather_batch(train, order, first, count, x, y);
      model.zero_grad();
      const Tensor loss = cross_entropy(model(x), y);
      loss.backward();
      std::fill(g.begin(), g.end(), 0.0);
      for (size_t p = 0; p < params.size(); ++p) {
        const Tensor host_grad = params[p].grad().to(Device::cpu());
        const float* grad = host_grad.data<float>();
        const std::vector<int32_t>& idx = indices[p];
        for (size_t i = 0; i < idx.size(); ++i)
          if (idx[i] >= 0) g[idx[i]] += grad[i];
      }
      ++t;
      for (size_t k = 0; k < K; ++k) {
        SWS_CHECK(std::isfinite(g[k]), "codebook fine-tuning diverged at epoch " + std::to_string(epoch) + ", step " +
                                           std::to_string(s + 1) + ": shared value " + std::to_string(k));
        m[k] = beta1 * m[k] + (1 - beta1) * g[k];
        v[k] = beta2 * v[k] + (1 - beta2) * g[k] * g[k];
        const double mhat = m[k] / (1 - std::pow(beta1, double(t))), vhat = v[k] / (1 - std::pow(beta2, double(t)));
        codebook[k] -= c.lr * mhat / (std::sqrt(vhat) + eps);
      }
      for (size_t p = 0; p < params.size(); ++p) {
        float* w = host_weights[p].data<float>();
        const std::vector<int32_t>& idx = indices[p];
        for (size_t i = 0; i < idx.size(); ++i) w[i] = idx[i] >= 0 ? static_cast<float>(codebook[idx[i]]) : 0.0f;
        if (!device.is_cpu()) Tensor(params[p]).copy_(host_weights[p]);
      }
      if (observer.on_step) observer.on_step({"codebook fine-tuning", epoch, c.epochs, s + 1, steps, first + count, {}});
    }
  }
}

}  // namespace sws
