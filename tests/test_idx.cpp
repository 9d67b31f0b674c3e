// The MNIST IDX reader on tiny generated files, valid and broken, and on the real data.
#include <doctest/doctest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/mnist.h"
#include "temp_dir.h"

using namespace sws;

namespace {


std::string be32(uint32_t v) {
  return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
}

std::string images_bytes(uint32_t count, uint32_t rows, uint32_t cols, size_t payload) {
  std::string s = be32(2051) + be32(count) + be32(rows) + be32(cols);
  for (size_t i = 0; i < payload; ++i) s += char(i * 7);
  return s;
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  gzclose(f);
}

}  // namespace

TEST_CASE("idx: valid images and labels read back exactly, raw and gzipped") {
  sws::testing::TempDir tmp("idx");
  const std::string dir = tmp.path.string();
  const std::string bytes = images_bytes(3, 2, 4, 24);
  write_raw(dir + "/a.idx3", bytes);
  write_gz(dir + "/a.idx3.gz", bytes);
  for (const char* name : {"/a.idx3", "/a.idx3.gz"}) {
    const IdxImages im = read_idx_images(dir + name);
    CHECK(im.count == 3);
    CHECK(im.rows == 2);
    CHECK(im.cols == 4);
    REQUIRE(im.pixels.size() == 24);
    for (size_t i = 0; i < 24; ++i) CHECK(im.pixels[i] == uint8_t(i * 7));
  }
  write_gz(dir + "/l.gz", be32(2049) + be32(3) + std::string{1, 9, 0});
  const IdxLabels l = read_idx_labels(dir + "/l.gz");
  CHECK(l.labels == std::vector<uint8_t>{1, 9, 0});
}

TEST_CASE("idx: broken files get clear errors naming the file") {
  sws::testing::TempDir tmp("idx");
  const std::string dir = tmp.path.string();
  auto fails_with = [&](const std::string& bytes, const std::string& needle, bool gz = true) {
    const std::string path = dir + "/bad" + (gz ? ".gz" : "");
    gz ? write_gz(path, bytes) : write_raw(path, bytes);
    CHECK_THROWS_WITH(read_idx_images(path), doctest::Contains(needle.c_str()));
    CHECK_THROWS_WITH(read_idx_images(path), doctest::Contains(path.c_str()));
  };
  fails_with(be32(2049) + be32(1) + be32(1) + be32(1) + "x", "wrong magic number 2049");
  fails_with(images_bytes(3, 2, 4, 23), "truncated: the header declares 24 bytes of data, the file holds 23");
  fails_with(images_bytes(3, 2, 4, 25), "extra bytes");
  fails_with(images_bytes(0, 2, 4, 0), "dimension 0 is 0");
  fails_with(images_bytes(3, 2000, 4, 0), "dimension 1 is 2000");
  fails_with(be32(2051) + be32(3), "truncated header");
  fails_with("", "truncated header", false);
  // A header claiming 10 million 28x28 images in a tiny file: refused without allocating 7.8 GB.
  fails_with(images_bytes(10'000'000, 28, 28, 100), "the file holds 100");
  CHECK_THROWS_WITH(read_idx_images(dir + "/missing.gz"), doctest::Contains("missing.gz: file not found"));
}

TEST_CASE("idx: a corrupted gzip stream is an error, not garbage") {
  sws::testing::TempDir tmp("idx");
  const std::string dir = tmp.path.string();
  write_gz(dir + "/ok.gz", images_bytes(100, 28, 28, 78400));
  std::string gz;
  {
    std::ifstream f(dir + "/ok.gz", std::ios::binary);
    gz.assign(std::istreambuf_iterator<char>(f), {});
  }
  REQUIRE(gz.size() > 200);
  std::string bad = gz;
  for (size_t i = gz.size() / 2; i < gz.size() / 2 + 8; ++i) bad[i] ^= 0x5a;
  write_raw(dir + "/bad.gz", bad);
  CHECK_THROWS_WITH(read_idx_images(dir + "/bad.gz"), doctest::Contains("bad.gz"));
  // A flipped byte in the trailing CRC-32 alone: the data decodes, the checksum must catch it.
  std::string bad_crc = gz;
  bad_crc[gz.size() - 6] ^= 0x01;
  write_raw(dir + "/crc.gz", bad_crc);
  CHECK_THROWS_WITH(read_idx_images(dir + "/crc.gz"), doctest::Contains("corrupt gzip data"));
}

TEST_CASE("idx: a pair must agree in count, size and label range") {
  sws::testing::TempDir tmp("idx");
  const std::string dir = tmp.path.string();
  write_gz(dir + "/i.gz", images_bytes(2, 28, 28, 2 * 784));
  write_gz(dir + "/l3.gz", be32(2049) + be32(3) + std::string{1, 2, 3});
  write_gz(dir + "/l2bad.gz", be32(2049) + be32(2) + std::string{1, 10});
  write_gz(dir + "/small.gz", images_bytes(2, 8, 8, 128));
  write_gz(dir + "/l2.gz", be32(2049) + be32(2) + std::string{1, 2});
  CHECK_THROWS_WITH(load_idx_pair(dir + "/i.gz", dir + "/l3.gz"), doctest::Contains("2 images but"));
  CHECK_THROWS_WITH(load_idx_pair(dir + "/i.gz", dir + "/l2bad.gz"), doctest::Contains("label 10 at index 1"));
  CHECK_THROWS_WITH(load_idx_pair(dir + "/small.gz", dir + "/l2.gz"), doctest::Contains("28 x 28"));
  CHECK(load_idx_pair(dir + "/i.gz", dir + "/l2.gz").labels.labels == std::vector<uint8_t>{1, 2});
  CHECK_THROWS_WITH(load_mnist(dir), doctest::Contains("fetch-mnist.sh"));
}

TEST_CASE("idx: the real MNIST has 60,000 + 10,000 digits of all ten classes") {
  const std::string dir = SWS_MNIST_DIR;
  REQUIRE_MESSAGE(std::filesystem::exists(dir), "MNIST not found in " << dir << ": run scripts/fetch-mnist.sh");
  const Mnist m = load_mnist(dir);
  CHECK(m.train.images.count == 60000);
  CHECK(m.test.images.count == 10000);
  CHECK(m.train.images.rows == 28);
  int counts[10] = {};
  for (uint8_t l : m.test.labels.labels) ++counts[l];
  for (int c : counts) CHECK(c > 800);
}
