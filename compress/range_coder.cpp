#include "compress/range_coder.h"

#include <array>
#include <cmath>

#include "core/error.h"

namespace sws {
namespace {

constexpr uint32_t kTop = 1u << 24;  // the range is kept at or above this after each bit
constexpr uint32_t kMinP0 = kMinP16 << 16, kMaxP0 = (65536u - kMinP16) << 16;

// kRate[n] = floor(65536 / (n + 2)): the step of a model that has seen n bits (FORMAT.md).
const std::array<uint32_t, kBitModelLimit + 1> kRate = [] {
  std::array<uint32_t, kBitModelLimit + 1> t{};
  for (uint32_t n = 0; n <= kBitModelLimit; ++n) t[n] = 65536u / (n + 2);
  return t;
}();

}  // namespace

void BitModel::update(int bit) {
  const uint64_t r = kRate[seen];
  if (bit == 0)
    p0 += static_cast<uint32_t>(((uint64_t{1} << 32) - p0) * r >> 16);
  else
    p0 -= static_cast<uint32_t>(p0 * r >> 16);
  p0 = p0 < kMinP0 ? kMinP0 : p0 > kMaxP0 ? kMaxP0 : p0;
  if (seen < kBitModelLimit) ++seen;
}

double BitModel::cost(int bit) const {
  const double q = p16() / 65536.0;
  return -std::log2(bit ? 1.0 - q : q);
}

void RangeEncoder::encode(BitModel& m, int bit) {
  const uint32_t bound = static_cast<uint32_t>(uint64_t{range_} * m.p16() >> 16);
  if (bit == 0) {
    range_ = bound;
  } else {
    low_ += bound;
    range_ -= bound;
  }
  m.update(bit);
  while (range_ < kTop) {
    range_ <<= 8;
    shift_low();
  }
}

// Moves the top byte of low_ out. A byte is held back (cache_, plus a run of 0xFF) until it is
// known that no later carry can change it; a carry turns cache_ + 1 and the run into 0x00s.
void RangeEncoder::shift_low() {
  if (static_cast<uint32_t>(low_) < 0xFF000000u || (low_ >> 32) != 0) {
    const uint8_t carry = static_cast<uint8_t>(low_ >> 32);
    // The first cache byte stands for the integer part of a code value in [0, 1): it is always 0
    // and never carried into, so it is not written (LZMA writes it; we save the byte).
    if (have_cache_) out_.push_back(static_cast<char>(cache_ + carry));
    for (; pending_ff_ > 0; --pending_ff_) out_.push_back(static_cast<char>(0xFF + carry));
    have_cache_ = true;
    cache_ = static_cast<uint8_t>(low_ >> 24);
  } else {
    ++pending_ff_;
  }
  low_ = (low_ & 0x00FFFFFFu) << 8;
}

std::string RangeEncoder::finish() {
  // Any value in [low, low + range) decodes to the same bits; take the one with the most
  // trailing zero bits, whose trailing zero bytes need not be stored at all.
  const uint64_t end = low_ + range_;
  for (int k = 32; k >= 0; --k) {
    const uint64_t mask = (uint64_t{1} << k) - 1;
    const uint64_t v = (low_ + mask) & ~mask;
    if (v < end) {
      low_ = v;
      break;
    }
  }
  for (int i = 0; i < 5; ++i) shift_low();
  while (!out_.empty() && out_.back() == '\0') out_.pop_back();
  return std::move(out_);
}

RangeDecoder::RangeDecoder(const uint8_t* data, size_t size) : data_(data), size_(size) {
  for (int i = 0; i < 4; ++i) code_ = (code_ << 8) | next_byte();
}

int RangeDecoder::decode(BitModel& m) {
  const uint32_t bound = static_cast<uint32_t>(uint64_t{range_} * m.p16() >> 16);
  int bit;
  if (code_ < bound) {
    range_ = bound;
    bit = 0;
  } else {
    code_ -= bound;
    range_ -= bound;
    bit = 1;
  }
  m.update(bit);
  while (range_ < kTop) {
    range_ <<= 8;
    code_ = (code_ << 8) | next_byte();
  }
  return bit;
}

void RangeDecoder::check_end(const std::string& what) const {
  SWS_CHECK(pos_ == size_, what + ": coded stream has " + std::to_string(size_ - pos_) +
                               " byte(s) after its end; the file is corrupt");
  SWS_CHECK(size_ == 0 || data_[size_ - 1] != 0,
            what + ": coded stream ends in a zero byte, which an encoder never writes; the file is corrupt");
  SWS_CHECK(code_ < range_, what + ": coded stream is inconsistent; the file is corrupt");
}

// The node count of a tree of `bits` bits, checked before anything is allocated.
static size_t bit_tree_nodes(int bits) {
  SWS_CHECK(bits >= 0 && bits <= 16, "BitTree: " + std::to_string(bits) + " bits (must be 0..16)");
  return size_t{1} << bits;
}

BitTree::BitTree(int bits) : bits_(bits), nodes_(bit_tree_nodes(bits)) {}

void BitTree::encode(RangeEncoder& rc, uint32_t value) {
  uint32_t node = 1;
  for (int i = bits_ - 1; i >= 0; --i) {
    const int bit = (value >> i) & 1;
    rc.encode(nodes_[node], bit);
    node = 2 * node + bit;
  }
}

uint32_t BitTree::decode(RangeDecoder& rc) {
  uint32_t node = 1;
  for (int i = 0; i < bits_; ++i) node = 2 * node + rc.decode(nodes_[node]);
  return node - (uint32_t{1} << bits_);
}

double BitTree::cost(uint32_t value) const {
  double bits = 0;
  uint32_t node = 1;
  for (int i = bits_ - 1; i >= 0; --i) {
    const int bit = (value >> i) & 1;
    bits += nodes_[node].cost(bit);
    node = 2 * node + bit;
  }
  return bits;
}

}  // namespace sws
