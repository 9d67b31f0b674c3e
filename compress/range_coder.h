// An adaptive binary range coder (the LZMA design: 32-bit range, byte-wise output with carry
// propagation) with counting probability models, and a bit-tree for multi-symbol values.
// docs/FORMAT.md ("Range coder") specifies every step, so that another implementation can decode
// our streams bit for bit.
//
// Why counting models rather than LZMA's fixed shift-5 update: a shift-5 model forgets after about
// 32 bits, which on a 2%-dense flag stream costs ~0.01 bit per flag of estimation noise (8% of
// the entropy). A counting model follows the Krichevsky-Trofimov estimator (p = (n0 + 1/2) / (n + 1))
// for its first kBitModelLimit bits and then becomes an exponential average with that window.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sws {

// Number of bits after which a BitModel stops slowing its adaptation (its window).
constexpr uint32_t kBitModelLimit = 1023;

// One adaptive binary probability: P(bit = 0) in units of 2^-32, and the bits seen (capped).
struct BitModel {
  uint32_t p0 = 0x80000000u;  // P(bit = 0) x 2^32, starting at 1/2
  uint32_t seen = 0;          // bits coded with this model so far, capped at kBitModelLimit
  // The 16-bit probability of a 0 the coder uses, in [kMinP16, 65536 - kMinP16].
  uint32_t p16() const { return p0 >> 16; }
  // Moves p0 towards the bit that was coded by 1 / (seen + 2) of the distance (the KT estimator
  // while seen < kBitModelLimit), keeps p16() within [kMinP16, 65536 - kMinP16], counts the bit.
  void update(int bit);
  // Ideal cost in bits of coding `bit` now (for measurements, not for coding).
  double cost(int bit) const;
};

// The smallest 16-bit probability either bit keeps (so no bit costs more than 11 bits).
constexpr uint32_t kMinP16 = 32;

// Encodes bits into a byte string; finish() returns it. One encoder per stream.
class RangeEncoder {
 public:
  // Codes `bit` (0 or 1) with probability model `m`, then updates `m`.
  void encode(BitModel& m, int bit);
  // Flushes the coder and returns the stream: the shortest byte string that decodes to the bits
  // coded, given that a decoder reads zeros past its end. Call once.
  std::string finish();

 private:
  void shift_low();
  uint64_t low_ = 0;  // 33 bits: the interval's base plus a pending carry
  uint32_t range_ = 0xFFFFFFFFu;
  uint8_t cache_ = 0;        // last byte not yet written (a carry may still change it)
  uint64_t pending_ff_ = 0;  // 0xFF bytes after cache_ that a carry would turn into 0x00
  bool have_cache_ = false;  // false until the first byte (always 0, never written) is passed
  std::string out_;
};

// Decodes bits from a byte range it never reads outside of: past the end it reads zeros (the
// encoder drops trailing zeros), and check_end() then tells a consistent stream from a bad one.
class RangeDecoder {
 public:
  // Reads the first four bytes (zeros past the end). `data` is not owned and must outlive this.
  RangeDecoder(const uint8_t* data, size_t size);
  // Decodes one bit with model `m` and updates `m`, mirroring RangeEncoder::encode.
  int decode(BitModel& m);
  // After the last bit: throws sws::Error (naming `what`) unless the stream is one the encoder
  // could have produced for these bits: the decoder used every byte, the last byte is not zero
  // (the encoder strips trailing zeros), and the code value lies inside the final interval.
  void check_end(const std::string& what) const;

 private:
  uint8_t next_byte() { return pos_ < size_ ? data_[pos_++] : (++past_end_, 0); }
  const uint8_t* data_;
  size_t size_, pos_ = 0;
  uint64_t past_end_ = 0;  // zero bytes supplied beyond the stream
  uint32_t range_ = 0xFFFFFFFFu, code_ = 0;
};

// A value of `bits` bits coded most significant bit first, each bit with the model of its node
// in a binary tree (2^bits - 1 models), so any distribution over the 2^bits values is learned.
class BitTree {
 public:
  // Fresh models for values of `bits` bits; throws sws::Error unless 0 <= bits <= 16.
  explicit BitTree(int bits);
  // Codes the low `bits` bits of value (higher bits are ignored) and updates the models.
  void encode(RangeEncoder& rc, uint32_t value);
  // Decodes a value in [0, 2^bits), mirroring encode.
  uint32_t decode(RangeDecoder& rc);
  // Ideal cost in bits of coding `value` now.
  double cost(uint32_t value) const;
  int bits() const { return bits_; }  // the value width given to the constructor

 private:
  int bits_;
  std::vector<BitModel> nodes_;  // node 1 is the root; node i's children are 2i and 2i + 1
};

}  // namespace sws
