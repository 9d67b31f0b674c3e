#include "nn/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "autograd/grad_mode.h"
#include "core/error.h"

namespace sws {

Dataset make_dataset(const MnistSplit& split, int64_t limit) {
  const int64_t n = limit > 0 ? std::min(limit, split.images.count) : split.images.count;
  const int64_t rows = split.images.rows, cols = split.images.cols, pixels = rows * cols;
  Dataset d;
  d.images = Tensor::empty({n, 1, rows, cols});
  d.labels = Tensor::empty({n}, DType::I32);
  float* x = d.images.data<float>();
  int32_t* y = d.labels.data<int32_t>();
  for (int64_t i = 0; i < n * pixels; ++i) x[i] = split.images.pixels[i] / 255.0f;
  for (int64_t i = 0; i < n; ++i) y[i] = split.labels.labels[i];
  return d;
}

DataSplit split_validation(const Dataset& data, double fraction) {
  SWS_CHECK(fraction >= 0 && fraction < 1, "the validation fraction must lie in [0, 1), got " + std::to_string(fraction));
  const int64_t n = data.size(), held = static_cast<int64_t>(std::llround(fraction * n));
  SWS_CHECK(fraction == 0 || held >= 1, "a validation fraction of " + std::to_string(fraction) + " of " +
                                           std::to_string(n) + " images holds out none: use more images or a larger fraction");
  SWS_CHECK(n - held >= 1, "the validation split leaves no training image (" + std::to_string(n) + " images)");
  DataSplit s;
  s.train = {data.images.rows(0, n - held), data.labels.rows(0, n - held)};
  if (held > 0) s.validation = {data.images.rows(n - held, held), data.labels.rows(n - held, held)};
  return s;
}

void gather_batch(const Dataset& data, const std::vector<int64_t>& order, int64_t start, int64_t count,
                  Tensor& x, Tensor& y) {
  SWS_CHECK(data.size() > 0 && count >= 0 && start >= 0 && start + count <= static_cast<int64_t>(order.size()),
            "gather_batch: examples [" + std::to_string(start) + ", " + std::to_string(start + count) + ") of an order of " +
                std::to_string(order.size()) + " over " + std::to_string(data.size()) + " examples");
  const int64_t example = data.images.numel() / data.size();
  SWS_CHECK(x.size(0) == count && y.size(0) == count, "gather_batch: batch tensors have the wrong size");
  SWS_CHECK(x.dtype() == DType::F32 && y.dtype() == DType::I32 && x.is_contiguous() && y.is_contiguous() &&
                x.numel() == count * example && x.device() == y.device(),
            "gather_batch: x must be contiguous F32 " + shape_str({count, example}) + " and y I32 [" + std::to_string(count) +
                "] on one device, got " + describe(x) + " and " + describe(y));
  // On a GPU the batch is gathered on the host and sent in one copy per tensor (the host
  // tensors come from the caching allocator, so this allocates nothing in a steady state).
  const bool on_host = x.device().is_cpu();
  Tensor hx = on_host ? x : Tensor::empty(x.shape(), DType::F32);
  Tensor hy = on_host ? y : Tensor::empty(y.shape(), DType::I32);
  const float* src = data.images.data<float>();
  const int32_t* labels = data.labels.data<int32_t>();
  float* dst = hx.data<float>();
  int32_t* out = hy.data<int32_t>();
  for (int64_t i = 0; i < count; ++i) {
    const int64_t j = order[start + i];
    SWS_CHECK(j >= 0 && j < data.size(), "gather_batch: example index " + std::to_string(j) + " out of range");
    std::memcpy(dst + i * example, src + j * example, example * sizeof(float));
    out[i] = labels[j];
  }
  if (!on_host) x.copy_(hx), y.copy_(hy);
}

void check_model_fits(Module& model, const Dataset& data) {
  SWS_CHECK(data.size() > 0, "the dataset is empty");
  int32_t largest = 0;
  const int32_t* labels = data.labels.data<int32_t>();
  for (int64_t i = 0; i < data.size(); ++i) largest = std::max(largest, labels[i]);
  NoGradGuard no_grad;
  const std::vector<Tensor> params = model.parameters();
  const Device device = params.empty() ? Device::cpu() : params.front().device();
  Tensor images = data.images.rows(0, std::min<int64_t>(2, data.size()));
  if (!device.is_cpu()) images = images.to(device);
  Tensor logits;
  try {
    logits = model(images);
  } catch (const Error& e) {
    throw Error("the model does not fit the data (examples " + shape_str(images.shape()) + "): " + e.what());
  }
  SWS_CHECK(logits.dim() == 2 && logits.size(0) == images.size(0) && logits.size(1) > largest,
            "the model does not fit the data: for examples " + shape_str(images.shape()) + " it returns " +
                describe(logits) + ", but logits [" + std::to_string(images.size(0)) + ", C] with C > " +
                std::to_string(largest) + " (the largest label) are needed");
}

namespace {

// Examples [first, first + count) of `data` whose arg-max logit (first on ties) is the label.
int64_t count_correct(Module& model, const Dataset& data, Share part, int64_t batch) {
  NoGradGuard no_grad;
  const std::vector<Tensor> params = model.parameters();
  const Device device = params.empty() ? Device::cpu() : params.front().device();
  int64_t correct = 0;
  for (int64_t start = part.first, end = part.first + part.count; start < end; start += batch) {
    const int64_t count = std::min(batch, end - start);
    Tensor images = data.images.rows(start, count);
    if (!device.is_cpu()) images = images.to(device);
    Tensor logits = model(images).to(Device::cpu()).contiguous();
    const int64_t classes = logits.size(1);
    const float* l = logits.data<float>();
    const int32_t* y = data.labels.data<int32_t>() + start;
    for (int64_t i = 0; i < count; ++i) {
      int64_t best = 0;
      for (int64_t c = 1; c < classes; ++c)
        if (l[i * classes + c] > l[i * classes + best]) best = c;
      correct += best == y[i];
    }
  }
  return correct;
}

}  // namespace

double evaluate_accuracy(Module& model, const Dataset& data, int64_t batch) {
  return evaluate_accuracy(model, data, nullptr, batch);
}

double evaluate_accuracy(Module& model, const Dataset& data, Communicator* comm, int64_t batch) {
  const int64_t n = data.size();
  const int64_t correct = count_correct(model, data, share_of(n, rank_of(comm), rank_count(comm)), batch);
  if (!comm || comm->size() == 1) return n ? static_cast<double>(correct) / static_cast<double>(n) : 0.0;
  Tensor total = Tensor::full({1}, static_cast<double>(correct), DType::F64, Device::cpu());
  comm->allreduce_sum(total);
  return n ? total.item() / static_cast<double>(n) : 0.0;
}

}  // namespace sws
