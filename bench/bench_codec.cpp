// Measures the .sws codec (docs/FORMAT.md): per tensor, the bits spent on positions and values
// against their empirical order-0 entropies; per model, the file size and the encode and decode
// speed in MB/s of dense float32 weights (median of --reps). Prints JSON lines.
//   bench_codec [--reps 20] [quantized.safetensors ...]
// Without files it measures a synthetic LeNet-5-like model (dead rows and columns, 1-30%
// non-zero per layer, 12 values symmetric around 0).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "compress/sws_format.h"
#include "core/safetensors.h"

using namespace sws;

namespace {

SwsModel synthetic_lenet5(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> normal(0, 1);
  const float book[12] = {-0.15f, -0.1f,  -0.07f, -0.05f, -0.035f, -0.02f,
                          0.02f,  0.035f, 0.05f,  0.07f,  0.1f,    0.15f};
  std::vector<double> w;
  for (float b : book) w.push_back(std::exp(-std::fabs(b) / 0.04));
  std::discrete_distribution<int> pick(w.begin(), w.end());
  const auto dead = [&](int n, double p) {
    std::vector<int> d(n);
    for (int& x : d) x = u(rng) < p;
    return d;
  };
  const std::vector<int> c1 = dead(20, 0.3), c2 = dead(50, 0.4), f1 = dead(500, 0.6), none;
  std::vector<int> c2_cols(500), f1_cols(800);
  for (int i = 0; i < 500; ++i) c2_cols[i] = c1[i / 25];
  for (int i = 0; i < 800; ++i) f1_cols[i] = c2[i / 16];
  const auto make = [&](const std::string& name, std::vector<int64_t> shape,
                        const std::vector<int>& dead_rows, const std::vector<int>& dead_cols, double base) {
    SwsTensor t{name, std::move(shape), {}};
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    const int64_t rows = t.shape.size() > 1 ? t.shape[0] : 1, cols = n / rows;
    std::vector<double> a(rows), b(cols);
    for (auto& x : a) x = std::exp(0.8 * normal(rng));
    for (auto& x : b) x = std::exp(0.8 * normal(rng));
    t.values.assign(n, 0.0f);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        if (!(!dead_rows.empty() && dead_rows[r]) && !(!dead_cols.empty() && dead_cols[c]) &&
            u(rng) < std::min(0.9, base * a[r] * b[c]))
          t.values[r * cols + c] = book[pick(rng)];
    return t;
  };
  SwsModel m;
  m.architecture = "lenet5";
  m.tensors = {
      make("conv1.weight", {20, 1, 5, 5}, c1, none, 0.3),      make("conv1.bias", {20}, none, none, 0.3),
      make("conv2.weight", {50, 20, 5, 5}, c2, c2_cols, 0.06), make("conv2.bias", {50}, none, none, 0.2),
      make("fc1.weight", {500, 800}, f1, f1_cols, 0.03),       make("fc1.bias", {500}, none, none, 0.1),
      make("fc2.weight", {10, 500}, none, f1, 0.15),           make("fc2.bias", {10}, none, none, 0.5)};
  return m;
}

SwsModel from_safetensors(const std::string& path) {
  const SafetensorsFile f = read_safetensors(path);
  SwsModel m;
  m.architecture = f.metadata.count("sws.model") ? f.metadata.at("sws.model") : "unknown";
  for (const auto& e : f.tensors) {
    if (e.dtype != DType::F32) continue;
    SwsTensor t{e.name, e.shape, std::vector<float>(e.bytes.size() / 4)};
    if (!e.bytes.empty()) std::memcpy(t.values.data(), e.bytes.data(), e.bytes.size());
    m.tensors.push_back(std::move(t));
  }
  return m;
}

template <class F>
double median_seconds(int reps, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

void measure(const std::string& source, const SwsModel& m, int reps) {
  std::string bytes;
  const double enc = median_seconds(reps, [&] { bytes = encode_sws(m); });
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  const double dec = median_seconds(reps, [&] { decode_sws(data, bytes.size(), source); });
  const SwsStats s = inspect_sws(data, bytes.size(), source);
  double pos = 0, pos_h = 0, val = 0, val_h = 0;
  int64_t nz = 0;
  for (const auto& t : s.tensors) {
    const double n = t.nonzeros ? static_cast<double>(t.nonzeros) : 1.0;
    std::printf(
        "{\"kind\": \"sws_tensor\", \"source\": \"%s\", \"name\": \"%s\", \"parameters\": %lld, "
        "\"nonzeros\": %lld, \"distinct\": %lld, \"position_bits_per_nz\": %.3f, "
        "\"position_entropy_bits_per_nz\": %.3f, \"value_bits_per_nz\": %.3f, "
        "\"value_entropy_bits_per_nz\": %.3f, \"bytes\": %lld}\n",
        source.c_str(), t.name.c_str(), static_cast<long long>(t.parameters),
        static_cast<long long>(t.nonzeros), static_cast<long long>(t.distinct), t.position_bits / n,
        t.position_entropy_bits / n, t.value_bits / n, t.value_entropy_bits / n,
        static_cast<long long>(t.bytes));
    pos += t.position_bits, pos_h += t.position_entropy_bits, val += t.value_bits,
        val_h += t.value_entropy_bits;
    nz += t.nonzeros;
  }
  const double mb = 4e-6 * static_cast<double>(s.parameters), n = nz ? static_cast<double>(nz) : 1.0;
  std::printf(
      "{\"kind\": \"sws_model\", \"source\": \"%s\", \"parameters\": %lld, \"nonzeros\": %lld, "
      "\"file_bytes\": %lld, \"rate\": %.1f, \"position_bits_per_nz\": %.3f, "
      "\"position_entropy_bits_per_nz\": %.3f, \"value_bits_per_nz\": %.3f, "
      "\"value_entropy_bits_per_nz\": %.3f, \"encode_mb_s\": %.1f, \"decode_mb_s\": %.1f}\n",
      source.c_str(), static_cast<long long>(s.parameters), static_cast<long long>(nz),
      static_cast<long long>(s.file_bytes), 32.0 * s.parameters / (8.0 * s.file_bytes), pos / n, pos_h / n,
      val / n, val_h / n, mb / enc, mb / dec);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 20;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc)
      reps = std::max(1, std::atoi(argv[++i]));
    else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "usage: bench_codec [--reps N] [quantized.safetensors ...]\n");
      return 2;
    } else
      files.push_back(a);
  }
  try {
    if (files.empty()) measure("synthetic-lenet5", synthetic_lenet5(1), reps);
    for (const auto& f : files) measure(f, from_safetensors(f), reps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_codec: %s\n", e.what());
    return 1;
  }
  return 0;
}
