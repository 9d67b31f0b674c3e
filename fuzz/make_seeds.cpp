// Writes a few small valid inputs for each fuzz target (scripts/fuzz.sh runs it):
// DIR/sws/*.sws, DIR/safetensors/*.safetensors, DIR/idx/*.idx (raw and gzip).
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "compress/sws_format.h"
#include "core/safetensors.h"

namespace {

void write(const std::filesystem::path& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
    std::perror(path.c_str());
    std::exit(1);
  }
  std::fclose(f);
}

std::string gzip(const std::string& raw) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // + 16: gzip wrapper
  std::string out(deflateBound(&z, raw.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

sws::SwsTensor sparse(const std::string& name, std::vector<int64_t> shape, double density, int distinct,
                      std::mt19937& rng) {
  sws::SwsTensor t{name, std::move(shape), {}};
  int64_t n = 1;
  for (int64_t d : t.shape) n *= d;
  std::bernoulli_distribution keep(density);
  std::uniform_int_distribution<int> pick(1, distinct);
  for (int64_t i = 0; i < n; ++i) t.values.push_back(keep(rng) ? 0.01f * pick(rng) * (i % 2 ? 1 : -1) : 0.0f);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  for (const char* sub : {"sws", "safetensors", "idx"}) std::filesystem::create_directories(dir / sub);

  std::mt19937 rng(1);
  sws::SwsModel m;
  m.architecture = "lenet5";
  m.config = {{"tau", "0.015"}};
  m.tensors.push_back(sparse("conv1.weight", {6, 1, 3, 3}, 0.3, 5, rng));
  m.tensors.push_back(sparse("conv1.bias", {6}, 0.5, 2, rng));
  m.tensors.push_back(sparse("fc.weight", {20, 30}, 0.05, 8, rng));
  // Each version the decoder reads: 3 (varints) with and without a shared codebook, 2 (shared),
  // 1 (each tensor its own codebook).
  write(dir / "sws" / "small.sws", sws::encode_sws(m));  // version 3, values shared across tensors
  write(dir / "sws" / "small-v2.sws", sws::encode_sws(m, 2));
  write(dir / "sws" / "small-v1.sws", sws::encode_sws(m, 1));
  sws::SwsModel tiny;
  tiny.architecture = "t";
  tiny.tensors.push_back({"w", {3}, {0.0f, -0.0f, 1.0f}});
  tiny.tensors.push_back({"s", {}, {0.0f}});
  write(dir / "sws" / "tiny.sws", sws::encode_sws(tiny));
  sws::SwsModel dense;
  dense.tensors.push_back(sparse("d", {4, 4}, 1.0, 3, rng));
  write(dir / "sws" / "dense.sws", sws::encode_sws(dense));     // version 3, nothing to share
  write(dir / "sws" / "dense-v1.sws", sws::encode_sws(dense, 1));

  const float values[6] = {1, -2, 3.5f, 0, 0, 7};
  const int64_t ints[2] = {5, -9};
  write(dir / "safetensors" / "f32.safetensors",
        sws::encode_safetensors({{"a", sws::DType::F32, {2, 3}, values}}, {{"format", "pt"}}));
  write(dir / "safetensors" / "two.safetensors",
        sws::encode_safetensors({{"x", sws::DType::F32, {}, values}, {"y", sws::DType::I64, {2}, ints}}, {}));

  std::string images = be32(2051) + be32(2) + be32(3) + be32(3);
  for (int i = 0; i < 18; ++i) images.push_back(static_cast<char>(i * 13));
  const std::string labels = be32(2049) + be32(3) + std::string("\x01\x07\x09", 3);
  write(dir / "idx" / "images.idx", images);
  write(dir / "idx" / "labels.idx", labels);
  write(dir / "idx" / "images.idx.gz", gzip(images));
  write(dir / "idx" / "labels.idx.gz", gzip(labels));
  return 0;
}
