// MNIST in the IDX format (yann.lecun.com/exdb/mnist), read directly from .gz files with zlib
// (uncompressed files are read too). Every header field is checked against the bytes that are
// really there before anything is trusted, and nothing is allocated beyond what the data holds.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sws {

// The images of an idx3-ubyte file.
struct IdxImages {
  int64_t count = 0, rows = 0, cols = 0;  // number of images and each one's height and width
  std::vector<uint8_t> pixels;  // count * rows * cols bytes, row-major
};

// The labels of an idx1-ubyte file.
struct IdxLabels {
  int64_t count = 0;  // number of labels
  std::vector<uint8_t> labels;  // count bytes
};

// Reads an idx3-ubyte file (magic 2051: count, rows, cols, then the pixels). Throws sws::Error
// on a wrong magic number, a truncated file, extra bytes, or a size of 0 or over the caps
// (10,000,000 images, 1024 pixels a side).
IdxImages read_idx_images(const std::string& path);
// Reads an idx1-ubyte file (magic 2049: count, then the labels); throws as read_idx_images.
IdxLabels read_idx_labels(const std::string& path);

// One split: images and their labels, one label per image.
struct MnistSplit {
  IdxImages images;  // [count] 28 x 28 images
  IdxLabels labels;  // [count] digits 0-9, labels[i] for images i
};

// Reads a matching pair; throws sws::Error unless the counts agree, images are 28 x 28 and
// labels < 10.
MnistSplit load_idx_pair(const std::string& images_path, const std::string& labels_path);

// The full set: 60,000 training and 10,000 test digits.
struct Mnist {
  MnistSplit train, test;  // the train-* and t10k-* files
};

// Finds and reads the four files in dir (train-images-idx3-ubyte or train-images.idx3-ubyte,
// with or without .gz; the same for train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
// t10k-labels-idx1-ubyte). Throws sws::Error listing the names tried when one is missing, and
// as load_idx_pair when one is malformed.
Mnist load_mnist(const std::string& dir);

}  // namespace sws
