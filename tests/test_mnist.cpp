// The MNIST IDX reader (core/mnist.h): tiny generated files, raw and gzipped, valid and broken in
// every way the reader checks; then the real data sets where they are on disk.
#include <doctest/doctest.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/mnist.h"
#include "temp_dir.h"

using namespace sws;

namespace {

// Four bytes, big-endian, as IDX headers store them.
std::string be32(uint32_t v) { return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

// Deterministic, non-trivial payload bytes.
std::string payload(size_t n, uint32_t seed = 1) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 12345u;
  for (auto& c : s) {
    x = x * 1664525u + 1013904223u;
    c = char(x >> 24);
  }
  return s;
}

// An idx3 file: header declaring count x rows x cols, then `body`.
std::string idx3(uint32_t count, uint32_t rows, uint32_t cols, const std::string& body) {
  return be32(2051) + be32(count) + be32(rows) + be32(cols) + body;
}

// An idx1 file: header declaring count, then `body`.
std::string idx1(uint32_t count, const std::string& body) { return be32(2049) + be32(count) + body; }

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb9");
  REQUIRE(f != nullptr);
  if (!bytes.empty())
    REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// The message of the sws::Error that fn throws ("" if it throws none).
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Writes `bytes` raw and gzipped under `name`; `read` on both must fail naming the file and `needle`.
template <typename Reader>
void fails_with(const sws::testing::TempDir& tmp, const std::string& name, Reader read, const std::string& bytes,
                const std::string& needle) {
  for (bool gz : {false, true}) {
    const std::string path = tmp.file(gz ? name + ".gz" : name);
    gz ? write_gz(path, bytes) : write_raw(path, bytes);
    const std::string msg = error_of([&] { read(path); });
    INFO("file: " << path << "\nmessage: " << msg);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find(needle) != std::string::npos);
  }
}

void images_fail_with(const sws::testing::TempDir& tmp, const std::string& bytes, const std::string& needle) {
  fails_with(tmp, "bad.idx3", read_idx_images, bytes, needle);
}

void labels_fail_with(const sws::testing::TempDir& tmp, const std::string& bytes, const std::string& needle) {
  fails_with(tmp, "bad.idx1", read_idx_labels, bytes, needle);
}

// Writes a consistent 28 x 28 split of n digits (labels i % 10) under the given file names.
void write_split(const sws::testing::TempDir& tmp, const std::string& images, const std::string& labels, uint32_t n,
                 bool gz) {
  std::string l;
  for (uint32_t i = 0; i < n; ++i) l += char(i % 10);
  const std::string im = idx3(n, 28, 28, payload(size_t(n) * 784, n));
  gz ? write_gz(tmp.file(images), im) : write_raw(tmp.file(images), im);
  gz ? write_gz(tmp.file(labels), idx1(n, l)) : write_raw(tmp.file(labels), idx1(n, l));
}

}  // namespace

TEST_CASE("mnist idx: valid images and labels read back exactly, raw and gzipped") {
  sws::testing::TempDir tmp("mnist");
  const std::string body = payload(5 * 3 * 7, 42);
  write_raw(tmp.file("i.idx3"), idx3(5, 3, 7, body));
  write_gz(tmp.file("i.idx3.gz"), idx3(5, 3, 7, body));
  for (const char* name : {"i.idx3", "i.idx3.gz"}) {
    CAPTURE(name);
    const IdxImages im = read_idx_images(tmp.file(name));
    CHECK(im.count == 5);
    CHECK(im.rows == 3);
    CHECK(im.cols == 7);
    CHECK(im.pixels == std::vector<uint8_t>(body.begin(), body.end()));
  }
  const std::string labels = payload(9, 7);
  write_raw(tmp.file("l.idx1"), idx1(9, labels));
  write_gz(tmp.file("l.idx1.gz"), idx1(9, labels));
  for (const char* name : {"l.idx1", "l.idx1.gz"}) {
    CAPTURE(name);
    const IdxLabels l = read_idx_labels(tmp.file(name));
    CHECK(l.count == 9);
    CHECK(l.labels == std::vector<uint8_t>(labels.begin(), labels.end()));
  }
  // Larger than one read chunk (1 MiB), so the buffer grows across several reads.
  const std::string big = payload(3000 * 784, 3);
  write_gz(tmp.file("big.gz"), idx3(3000, 28, 28, big));
  const IdxImages im = read_idx_images(tmp.file("big.gz"));
  CHECK(im.count == 3000);
  CHECK(im.pixels == std::vector<uint8_t>(big.begin(), big.end()));
}

TEST_CASE("mnist idx: a wrong magic number is refused") {
  sws::testing::TempDir tmp("mnist");
  // A label file given as images, an image file given as labels, and a file that is no IDX at all.
  images_fail_with(tmp, idx1(3, "abc"), "wrong magic number 2049");
  labels_fail_with(tmp, idx3(1, 1, 1, "a"), "wrong magic number 2051");
  images_fail_with(tmp, std::string("\x89PNG\r\n\x1a\n") + std::string(64, 'x'), "wrong magic number");
  // The magic is big-endian: a byte-swapped header is wrong too.
  images_fail_with(tmp, std::string("\x03\x08\x00\x00", 4) + be32(1) + be32(1) + be32(1) + "a", "wrong magic");
}

TEST_CASE("mnist idx: a truncated header or payload is refused with both sizes") {
  sws::testing::TempDir tmp("mnist");
  images_fail_with(tmp, "", "truncated header");
  images_fail_with(tmp, be32(2051) + be32(3) + be32(2), "truncated header");
  labels_fail_with(tmp, be32(2049) + "\x00\x00", "truncated header");
  images_fail_with(tmp, idx3(3, 2, 4, payload(23)), "truncated");
  images_fail_with(tmp, idx3(3, 2, 4, payload(23)), "24 bytes");
  images_fail_with(tmp, idx3(3, 2, 4, payload(23)), "holds 23");
  images_fail_with(tmp, idx3(3, 2, 4, ""), "holds 0");
  labels_fail_with(tmp, idx1(10, payload(9)), "truncated");
}

TEST_CASE("mnist idx: extra bytes after the declared payload are refused") {
  sws::testing::TempDir tmp("mnist");
  images_fail_with(tmp, idx3(3, 2, 4, payload(25)), "extra bytes");
  images_fail_with(tmp, idx3(3, 2, 4, payload(24 + 5000)), "extra bytes");
  labels_fail_with(tmp, idx1(2, payload(3)), "extra bytes");
}

TEST_CASE("mnist idx: a header claiming far more data than the file holds fails fast, without a huge allocation") {
  sws::testing::TempDir tmp("mnist");
  const auto start = std::chrono::steady_clock::now();
  // 10 million 28 x 28 images would be 7.8 GB; the file holds 100 bytes of pixels.
  images_fail_with(tmp, idx3(10'000'000, 28, 28, payload(100)), "truncated");
  images_fail_with(tmp, idx3(10'000'000, 28, 28, payload(100)), "holds 100");
  // The largest header the caps allow: 10 TB declared. Allocating it would throw bad_alloc, not this.
  images_fail_with(tmp, idx3(10'000'000, 1024, 1024, payload(100)), "truncated");
  labels_fail_with(tmp, idx1(10'000'000, payload(5)), "truncated");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(seconds < 1.0);  // zero-filling even one 7.8 GB buffer takes seconds
}

TEST_CASE("mnist idx: zero and oversized dimensions are refused") {
  sws::testing::TempDir tmp("mnist");
  images_fail_with(tmp, idx3(0, 2, 4, ""), "dimension 0 is 0");
  images_fail_with(tmp, idx3(3, 0, 4, ""), "dimension 1 is 0");
  images_fail_with(tmp, idx3(3, 2, 0, ""), "dimension 2 is 0");
  labels_fail_with(tmp, idx1(0, ""), "dimension 0 is 0");
  images_fail_with(tmp, idx3(10'000'001, 28, 28, ""), "dimension 0 is 10000001");
  images_fail_with(tmp, idx3(3, 2000, 4, ""), "dimension 1 is 2000");
  images_fail_with(tmp, idx3(3, 4, 0xFFFFFFFFu, ""), "dimension 2 is 4294967295");
  labels_fail_with(tmp, idx1(0x80000000u, ""), "dimension 0 is 2147483648");
}

TEST_CASE("mnist idx: a corrupted gzip stream is an error naming the file, not garbage") {
  sws::testing::TempDir tmp("mnist");
  write_gz(tmp.file("ok.gz"), idx3(200, 28, 28, payload(200 * 784, 9)));
  const std::string gz = read_all(tmp.file("ok.gz"));
  REQUIRE(gz.size() > 1000);
  REQUIRE(read_idx_images(tmp.file("ok.gz")).count == 200);

  SUBCASE("bytes flipped in the middle of the deflate data") {
    for (size_t at : {gz.size() / 3, gz.size() / 2, gz.size() * 3 / 4}) {
      std::string bad = gz;
      for (size_t i = at; i < at + 16; ++i) bad[i] ^= 0x5a;
      write_raw(tmp.file("bad.gz"), bad);
      const std::string msg = error_of([&] { read_idx_images(tmp.file("bad.gz")); });
      INFO(msg);
      CHECK(msg.find(tmp.file("bad.gz")) != std::string::npos);
      CHECK(msg.find("corrupt gzip data") != std::string::npos);
    }
  }
  SUBCASE("one bit of the CRC-32 trailer: the data decodes, the checksum catches it") {
    std::string bad = gz;
    bad[gz.size() - 6] ^= 0x01;
    write_raw(tmp.file("crc.gz"), bad);
    const std::string msg = error_of([&] { read_idx_images(tmp.file("crc.gz")); });
    INFO(msg);
    CHECK(msg.find(tmp.file("crc.gz")) != std::string::npos);
    CHECK(msg.find("corrupt gzip data") != std::string::npos);
  }
  SUBCASE("the gzip stream cut short") {
    write_raw(tmp.file("cut.gz"), gz.substr(0, gz.size() / 2));
    const std::string msg = error_of([&] { read_idx_images(tmp.file("cut.gz")); });
    INFO(msg);
    CHECK(msg.find(tmp.file("cut.gz")) != std::string::npos);
    CHECK((msg.find("corrupt gzip data") != std::string::npos || msg.find("truncated") != std::string::npos));
  }
}

TEST_CASE("mnist idx: a missing file or a folder is refused, naming the path") {
  sws::testing::TempDir tmp("mnist");
  const std::string missing = tmp.file("no-such-file.gz");
  const std::string msg = error_of([&] { read_idx_images(missing); });
  CHECK(msg.find(missing) != std::string::npos);
  CHECK(msg.find("not found") != std::string::npos);
  CHECK(error_of([&] { read_idx_labels(missing); }).find(missing) != std::string::npos);
  CHECK(error_of([&] { read_idx_images(tmp.path.string()); }).find("folder") != std::string::npos);
}

TEST_CASE("mnist load_idx_pair: counts must agree, images be 28 x 28 and labels digits") {
  sws::testing::TempDir tmp("mnist");
  write_gz(tmp.file("i.gz"), idx3(3, 28, 28, payload(3 * 784)));
  write_gz(tmp.file("l3.gz"), idx1(3, std::string{7, 0, 9}));
  write_gz(tmp.file("l4.gz"), idx1(4, std::string{1, 2, 3, 4}));
  write_gz(tmp.file("l3bad.gz"), idx1(3, std::string{1, 10, 2}));
  write_gz(tmp.file("small.gz"), idx3(3, 8, 8, payload(3 * 64)));

  const MnistSplit s = load_idx_pair(tmp.file("i.gz"), tmp.file("l3.gz"));
  CHECK(s.images.count == 3);
  CHECK(s.labels.labels == std::vector<uint8_t>{7, 0, 9});

  std::string msg = error_of([&] { load_idx_pair(tmp.file("i.gz"), tmp.file("l4.gz")); });
  CHECK(msg.find("3 images") != std::string::npos);
  CHECK(msg.find("4 labels") != std::string::npos);
  CHECK(msg.find(tmp.file("l4.gz")) != std::string::npos);

  msg = error_of([&] { load_idx_pair(tmp.file("i.gz"), tmp.file("l3bad.gz")); });
  CHECK(msg.find("label 10 at index 1") != std::string::npos);
  CHECK(msg.find(tmp.file("l3bad.gz")) != std::string::npos);

  msg = error_of([&] { load_idx_pair(tmp.file("small.gz"), tmp.file("l3.gz")); });
  CHECK(msg.find("8 x 8") != std::string::npos);
  CHECK(msg.find("28 x 28") != std::string::npos);
}

TEST_CASE("mnist load_mnist: finds both spellings, with or without .gz, and lists what it looked for") {
  sws::testing::TempDir tmp("mnist");
  std::string msg = error_of([&] { load_mnist(tmp.path.string()); });
  CHECK(msg.find(tmp.file("train-images-idx3-ubyte.gz")) != std::string::npos);
  CHECK(msg.find(tmp.file("train-images.idx3-ubyte")) != std::string::npos);
  CHECK(msg.find("scripts/fetch-mnist.sh") != std::string::npos);
  CHECK(msg.find("--data DIR") != std::string::npos);

  write_split(tmp, "train-images.idx3-ubyte", "train-labels.idx1-ubyte", 12, false);
  write_split(tmp, "t10k-images-idx3-ubyte.gz", "t10k-labels.idx1-ubyte.gz", 5, true);
  Mnist m = load_mnist(tmp.path.string());
  CHECK(m.train.images.count == 12);
  CHECK(m.train.labels.labels[11] == 1);
  CHECK(m.test.images.count == 5);
  CHECK(m.test.images.pixels.size() == 5 * 784);

  std::filesystem::remove(tmp.file("t10k-labels.idx1-ubyte.gz"));
  msg = error_of([&] { load_mnist(tmp.path.string()); });
  CHECK(msg.find("t10k-labels-idx1-ubyte.gz") != std::string::npos);
  CHECK(msg.find("t10k-labels.idx1-ubyte") != std::string::npos);
}

TEST_CASE("mnist: the real MNIST (SWS_MNIST_DIR) has 60,000 + 10,000 28 x 28 digits of all ten classes") {
#ifndef SWS_MNIST_DIR
  MESSAGE("SWS_MNIST_DIR is not defined; skipping the real-MNIST check");
#else
  const std::string dir = SWS_MNIST_DIR;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    MESSAGE("no MNIST in " << dir << " (run scripts/fetch-mnist.sh); skipping the real-MNIST check");
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  const Mnist m = load_mnist(dir);
  MESSAGE("load_mnist(" << dir << "): "
                        << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s");
  for (const MnistSplit* s : {&m.train, &m.test}) {
    CHECK(s->images.rows == 28);
    CHECK(s->images.cols == 28);
    CHECK(s->images.pixels.size() == size_t(s->images.count) * 784);
    CHECK(s->labels.count == s->images.count);
    int64_t hist[10] = {};
    for (uint8_t l : s->labels.labels) ++hist[l];
    for (int c = 0; c < 10; ++c) CHECK(hist[c] > s->labels.count / 20);
  }
  CHECK(m.train.images.count == 60000);
  CHECK(m.test.images.count == 10000);
#endif
}

TEST_CASE("mnist: the 10,000-digit set in /work/shared/data/mnist-10k reads as one 28 x 28 split") {
  const std::string dir = "/work/shared/data/mnist-10k";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    MESSAGE(dir << " is not there; skipping");
    return;
  }
  const MnistSplit s = load_idx_pair(dir + "/images-idx3-ubyte.gz", dir + "/labels-idx1-ubyte.gz");
  CHECK(s.images.count == 10000);
  CHECK(s.labels.count == 10000);
  CHECK(s.images.rows == 28);
  CHECK(s.images.cols == 28);
  int64_t hist[10] = {};
  for (uint8_t l : s.labels.labels) ++hist[l];
  for (int c = 0; c < 10; ++c) CHECK(hist[c] > 500);
}
