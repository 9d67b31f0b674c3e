#include "core/mnist.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

#include "core/error.h"

namespace sws {

namespace {

constexpr uint32_t kImagesMagic = 0x00000803, kLabelsMagic = 0x00000801;
constexpr int64_t kMaxCount = 10'000'000, kMaxSide = 1024;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

GzFile open_gz(const std::string& path) {
  std::error_code ec;
  SWS_CHECK(std::filesystem::exists(path, ec),
            path + ": file not found (check the path, or run scripts/fetch-mnist.sh for MNIST)");
  SWS_CHECK(!std::filesystem::is_directory(path, ec), path + ": is a folder, not an IDX file; name the file itself");
  errno = 0;
  gzFile f = gzopen(path.c_str(), "rb");
  SWS_CHECK(f != nullptr, path + ": cannot open: " + std::strerror(errno ? errno : EIO) +
                              " (check that the file is readable)");
  gzbuffer(f, 1 << 17);
  return GzFile(f);
}

[[noreturn]] void throw_gz_error(gzFile f, const std::string& path) {
  int code = 0;
  const char* msg = gzerror(f, &code);
  throw Error(path + ": corrupt gzip data (" + std::string(msg && *msg ? msg : "unknown zlib error") +
              "); the file is damaged: download it again (scripts/fetch-mnist.sh)");
}

// Reads up to `size` bytes; returns how many arrived. A corrupt gzip stream is an error.
size_t read_some(gzFile f, const std::string& path, uint8_t* dst, size_t size) {
  size_t done = 0;
  while (done < size) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1 << 20));
    const int got = gzread(f, dst + done, chunk);
    if (got < 0) throw_gz_error(f, path);
    if (got == 0) {
      // End of data; a stream cut short mid-deflate can end here with the error only recorded.
      int code = Z_OK;
      gzerror(f, &code);
      if (code != Z_OK && code != Z_STREAM_END) throw_gz_error(f, path);
      break;
    }
    done += static_cast<size_t>(got);
  }
  return done;
}

uint32_t big_endian(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// Reads the header (magic and `dims` sizes) and exactly the payload it declares.
std::vector<uint8_t> read_idx(const std::string& path, uint32_t magic, int dims, std::vector<int64_t>& sizes) {
  GzFile f = open_gz(path);
  uint8_t header[16];
  const size_t header_bytes = 4 + 4 * static_cast<size_t>(dims);
  // The magic number alone first, so a file of the wrong kind is named as such even when short.
  size_t got = read_some(f.get(), path, header, 4);
  if (got == 4) {
    const uint32_t found = big_endian(header);
    SWS_CHECK(found == magic,
              path + ": wrong magic number " + std::to_string(found) + " (expected " + std::to_string(magic) +
                  (magic == kImagesMagic ? ", an idx3-ubyte image file); is this a label file or not IDX?"
                                         : ", an idx1-ubyte label file); is this an image file or not IDX?"));
    got += read_some(f.get(), path, header + 4, header_bytes - 4);
  }
  SWS_CHECK(got == header_bytes, path + ": truncated header (" + std::to_string(got) + " of " +
                                     std::to_string(header_bytes) + " bytes); the file is incomplete or not IDX");
  sizes.clear();
  int64_t total = 1;
  std::string shape;
  for (int d = 0; d < dims; ++d) {
    const int64_t s = big_endian(header + 4 + 4 * d);
    const int64_t cap = d == 0 ? kMaxCount : kMaxSide;
    SWS_CHECK(s > 0 && s <= cap, path + ": dimension " + std::to_string(d) + " is " + std::to_string(s) +
                                     " (must be in 1.." + std::to_string(cap) + ")");
    sizes.push_back(s);
    shape += (d ? " x " : "") + std::to_string(s);
    total *= s;  // at most 1e7 * 1024 * 1024: no overflow
  }
  // Read in 1 MiB chunks and grow the buffer only as data arrives: a header that lies about its
  // size cannot make us allocate more than the file holds (plus one chunk). Capacity doubles, but
  // never past the declared size, so an honest file ends with exactly one buffer of its size.
  constexpr size_t kChunk = size_t(1) << 20;
  const size_t want = static_cast<size_t>(total);
  std::vector<uint8_t> payload;
  size_t have = 0;
  while (have < want) {
    const size_t chunk = std::min(want - have, kChunk);
    if (payload.capacity() < have + chunk)
      payload.reserve(std::min(want, std::max(have + chunk, 2 * payload.capacity())));
    payload.resize(have + chunk);
    const size_t n = read_some(f.get(), path, payload.data() + have, chunk);
    have += n;
    if (n < chunk) break;
  }
  payload.resize(have);
  SWS_CHECK(have == want, path + ": truncated: the header declares " + std::to_string(want) +
                              " bytes of data, the file holds " + std::to_string(have) + " (expected " + shape +
                              (dims == 3 ? " pixels" : " labels") + "); the file is incomplete: download it again");
  uint8_t extra;
  SWS_CHECK(read_some(f.get(), path, &extra, 1) == 0,
            path + ": extra bytes after the " + std::to_string(want) + " declared by the header (" + shape +
                "); the header or the file is wrong: download it again");
  return payload;
}

// The first of "<stem>-<kind>.gz", "<stem>-<kind>", "<stem>.<kind>.gz", "<stem>.<kind>" that is a
// file in dir (the original dash spelling and the common dot one); "" when none is, with the
// names tried appended to `tried`.
std::string find_file(const std::string& dir, const std::string& stem, const std::string& kind, std::string& tried) {
  std::string names;
  for (const char* sep : {"-", "."})
    for (const char* ext : {".gz", ""}) {
      const std::string path = dir + "/" + stem + sep + kind + ext;
      std::error_code ec;
      if (std::filesystem::is_regular_file(path, ec)) return path;
      names += "\n  " + path;
    }
  tried += names;
  return "";
}

}  // namespace

IdxImages read_idx_images(const std::string& path) {
  std::vector<int64_t> sizes;
  IdxImages out;
  out.pixels = read_idx(path, kImagesMagic, 3, sizes);
  out.count = sizes[0], out.rows = sizes[1], out.cols = sizes[2];
  return out;
}

IdxLabels read_idx_labels(const std::string& path) {
  std::vector<int64_t> sizes;
  IdxLabels out;
  out.labels = read_idx(path, kLabelsMagic, 1, sizes);
  out.count = sizes[0];
  return out;
}

MnistSplit load_idx_pair(const std::string& images_path, const std::string& labels_path) {
  MnistSplit s{read_idx_images(images_path), read_idx_labels(labels_path)};
  SWS_CHECK(s.images.count == s.labels.count, images_path + " holds " + std::to_string(s.images.count) +
                                                  " images but " + labels_path + " holds " +
                                                  std::to_string(s.labels.count) + " labels; pair each image file with its own label file");
  SWS_CHECK(s.images.rows == 28 && s.images.cols == 28,
            images_path + ": images are " + std::to_string(s.images.rows) + " x " +
                std::to_string(s.images.cols) + ", MNIST's are 28 x 28");
  for (int64_t i = 0; i < s.labels.count; ++i)
    SWS_CHECK(s.labels.labels[i] < 10, labels_path + ": label " + std::to_string(s.labels.labels[i]) +
                                           " at index " + std::to_string(i) + " is not a digit 0-9");
  return s;
}

Mnist load_mnist(const std::string& dir) {
  std::error_code ec;
  SWS_CHECK(std::filesystem::is_directory(dir, ec),
            "MNIST folder " + dir + (std::filesystem::exists(dir, ec) ? " is not a folder" : " does not exist") +
                "; name a folder that holds the four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; .gz or raw). In this repository "
                "scripts/fetch-mnist.sh fills data/mnist; the sws command takes the folder as --data DIR.");
  std::string tried;
  const std::string train_images = find_file(dir, "train-images", "idx3-ubyte", tried);
  const std::string train_labels = find_file(dir, "train-labels", "idx1-ubyte", tried);
  const std::string test_images = find_file(dir, "t10k-images", "idx3-ubyte", tried);
  const std::string test_labels = find_file(dir, "t10k-labels", "idx1-ubyte", tried);
  SWS_CHECK(tried.empty(), "MNIST file not found in " + dir + "; looked for:" + tried +
                               "\nThe folder must hold the four IDX files (.gz or raw). In this repository "
                               "scripts/fetch-mnist.sh fills data/mnist; the sws command takes the folder as --data DIR.");
  Mnist m;
  m.train = load_idx_pair(train_images, train_labels);
  m.test = load_idx_pair(test_images, test_labels);
  return m;
}

}  // namespace sws
