// Without a usable GPU (a CPU-only build, or a CUDA build on a machine with no GPU), asking for
// cuda:0 is an sws::Error that says why; and the fused Adam entry point's default (the CPU's)
// equals the per-tensor updates bit for bit.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "core/backend.h"
#include "core/cuda_available.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/tensor.h"

using namespace sws;

namespace {

bool mentions_why(const std::string& message) {
  return message.find("no GPU") != std::string::npos || message.find("no CUDA backend") != std::string::npos;
}

}  // namespace

TEST_CASE("cuda:0 without a GPU or without the CUDA backend is an error that says so") {
  std::string why;
  if (cuda_available(&why)) {
    MESSAGE("a GPU is visible here: checking that cuda:0 works instead");
    Tensor t = Tensor::full({3}, 2.5).to(Device::cuda());
    CHECK(t.device() == Device::cuda());
    CHECK(t.to_double_vector() == std::vector<double>{2.5, 2.5, 2.5});
    return;
  }
  CHECK(!why.empty());
  std::string message;
  try {
    backend_for(Device::cuda());
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK_MESSAGE(mentions_why(message), message);
  CHECK(message.find("--device cpu") != std::string::npos);
  CHECK_THROWS_AS(Tensor::zeros({2}).to(Device::cuda()), Error);
  bool threw = false;
  try {
    Tensor::zeros({2}, DType::F32, Device::cuda(0));
  } catch (const Error& e) {
    threw = true;
    CHECK_MESSAGE(mentions_why(e.what()), e.what());
  }
  CHECK(threw);
  // Asking twice gives the same answer (the CUDA backend is looked for once).
  std::string again;
  CHECK(!cuda_available(&again));
  CHECK(again == why);
}

TEST_CASE("adam_update_many's default equals adam_update tensor by tensor, bit for bit") {
  Rng rng(5);
  Backend& cpu = backend_for(Device::cpu());
  for (DType dtype : {DType::F32, DType::F64}) {
    const std::vector<int64_t> sizes = {1, 33, 40000, 5};
    std::vector<Tensor> p1, m1, v1, p2, m2, v2;
    for (int64_t n : sizes) {
      std::vector<double> values(static_cast<size_t>(n));
      for (double& x : values) x = rng.uniform(-1.0, 1.0);
      p1.push_back(Tensor::from_vector(values, {n}).to(dtype));
      p2.push_back(p1.back().clone());
      for (auto* list : {&m1, &v1, &m2, &v2}) list->push_back(Tensor::zeros({n}, dtype));
    }
    for (int64_t step = 1; step <= 3; ++step) {
      std::vector<AdamUpdate> updates;
      for (size_t i = 0; i < sizes.size(); ++i) {
        std::vector<double> g(static_cast<size_t>(sizes[i]));
        for (double& x : g) x = rng.uniform(-1.0, 1.0);
        const Tensor grad = Tensor::from_vector(g, {sizes[i]}).to(dtype);
        // Different groups: different rates, betas and decay; group 2 started a step later.
        const AdamStep s{1e-3 * static_cast<double>(i + 1), 0.9 - 0.1 * static_cast<double>(i % 2), 0.999, 1e-8,
                         i == 1 ? 1e-2 : 0.0, i == 2 ? step + 1 : step};
        cpu.adam_update(p1[i], grad, m1[i], v1[i], s);
        updates.push_back({p2[i], grad, m2[i], v2[i], s});
      }
      cpu.adam_update_many(updates);
    }
    for (size_t i = 0; i < sizes.size(); ++i) {
      const size_t bytes = static_cast<size_t>(sizes[i]) * dtype_size(dtype);
      CHECK(std::memcmp(p1[i].raw_data(), p2[i].raw_data(), bytes) == 0);
      CHECK(std::memcmp(m1[i].raw_data(), m2[i].raw_data(), bytes) == 0);
      CHECK(std::memcmp(v1[i].raw_data(), v2[i].raw_data(), bytes) == 0);
    }
  }
}
