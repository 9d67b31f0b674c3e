// Tests for the .sws format (docs/FORMAT.md): the range coder against the entropy, bit-exact
// round trips of sparse quantised tensors of every shape, coded sizes against the empirical
// entropy on a realistic layer, and hostile input: truncation at every offset, bit flips, and
// hand-built files with valid CRCs whose contents lie.
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "compress/range_coder.h"
#include "compress/sws_format.h"
#include "compress/sws_tensor_coder.h"
#include "core/error.h"
#include "temp_dir.h"

using namespace sws;
using sws::testing::TempDir;

namespace {

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
uint32_t to_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// A sparse quantised tensor: about `density` of the elements non-zero, drawn from `distinct`
// values symmetric around 0, with the larger magnitudes rarer.
SwsTensor sparse_tensor(const std::string& name, std::vector<int64_t> shape, double density, int distinct,
                        std::mt19937& rng) {
  std::vector<float> book;
  std::vector<double> weight;
  for (int k = 0; k < distinct; ++k) {
    const float magnitude = 0.02f * (1 + k / 2);
    book.push_back(k % 2 ? -magnitude : magnitude);
    weight.push_back(1.0 / (1 + k));
  }
  std::discrete_distribution<int> pick(weight.begin(), weight.end());
  std::bernoulli_distribution keep(density);
  SwsTensor t{name, std::move(shape), {}};
  t.values.resize(numel_of(t.shape));
  for (float& v : t.values) v = keep(rng) ? book[pick(rng)] : 0.0f;
  return t;
}

std::string encode(const SwsModel& m) { return encode_sws(m); }

SwsModel decode(const std::string& bytes, const std::string& what = "t.sws") {
  return decode_sws(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), what);
}

// The message of the sws::Error decoding `bytes` throws ("" if it decodes).
std::string decode_error(const std::string& bytes) {
  try {
    decode(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void check_rejects(const std::string& bytes, std::initializer_list<const char*> parts) {
  const std::string msg = decode_error(bytes);
  INFO("message: ", msg);
  REQUIRE(!msg.empty());
  CHECK(msg.find("t.sws") != std::string::npos);
  for (const char* part : parts) CHECK(msg.find(part) != std::string::npos);
}

// Bit-exact equality of two models.
void check_same(const SwsModel& a, const SwsModel& b) {
  CHECK(a.architecture == b.architecture);
  CHECK(a.config == b.config);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    INFO("tensor ", a.tensors[i].name);
    CHECK(a.tensors[i].name == b.tensors[i].name);
    CHECK(a.tensors[i].shape == b.tensors[i].shape);
    REQUIRE(a.tensors[i].values.size() == b.tensors[i].values.size());
    const size_t n = a.tensors[i].values.size();
    CHECK((n == 0 || std::memcmp(a.tensors[i].values.data(), b.tensors[i].values.data(), 4 * n) == 0));
  }
}

// A LeNet-5-like model, small enough that its file is a few KB.
SwsModel small_model(uint32_t seed) {
  std::mt19937 rng(seed);
  SwsModel m;
  m.architecture = "lenet5";
  m.config = {{"tau", "0.015"}, {"pi0", "0.999"}};
  m.tensors.push_back(sparse_tensor("conv1.weight", {20, 1, 5, 5}, 0.2, 8, rng));
  m.tensors.push_back(sparse_tensor("conv1.bias", {20}, 0.3, 3, rng));
  m.tensors.push_back(sparse_tensor("fc.weight", {40, 60}, 0.05, 12, rng));
  m.tensors.push_back(sparse_tensor("fc.bias", {40}, 0.2, 4, rng));
  return m;
}

// ---- building files by hand, with correct CRCs, to attack what lies behind the CRC check

struct Bytes {
  std::string s;
  Bytes& u8(uint8_t v) { return s.push_back(static_cast<char>(v)), *this; }
  Bytes& u16(uint16_t v) { return raw_le(v, 2); }
  Bytes& u32(uint32_t v) { return raw_le(v, 4); }
  Bytes& u64(uint64_t v) { return raw_le(v, 8); }
  Bytes& str(const std::string& v) { return u16(static_cast<uint16_t>(v.size())).raw(v); }
  Bytes& raw(const std::string& v) { return s += v, *this; }
  Bytes& var(uint64_t v) {  // LEB128, as version 3 writes counts, lengths and dimensions
    for (; v >= 0x80; v >>= 7) s.push_back(static_cast<char>((v & 0x7F) | 0x80));
    return u8(static_cast<uint8_t>(v));
  }
  Bytes& vstr(const std::string& v) { return var(v.size()).raw(v); }
  Bytes& raw_le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
    return *this;
  }
};

std::string section(const std::string& payload) {
  Bytes b;
  b.u32(static_cast<uint32_t>(payload.size())).raw(payload);
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(b.s.data()), static_cast<uInt>(b.s.size())));
  return b.u32(crc).s;
}

// Version 3's section: a varint length, the payload, the CRC of both.
std::string section3(const std::string& payload) {
  Bytes b;
  b.var(payload.size()).raw(payload);
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(b.s.data()), static_cast<uInt>(b.s.size())));
  return b.u32(crc).s;
}

std::string file3_of(const std::string& header, const std::vector<std::string>& tensors) {
  Bytes b;
  b.raw("\x89SWS").u32(3).raw(section3(header));
  for (const auto& t : tensors) b.raw(section3(t));
  return b.s;
}

// A CRC-32 as the 4 little-endian bytes a file stores.
std::string crc_le(const std::string& bytes) {
  Bytes b;
  b.u32(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()))));
  return b.s;
}

std::string header_payload(uint32_t tensors, uint32_t padding = 0, const std::string& arch = "lenet5") {
  Bytes b;
  b.str(arch).u32(1).str("tau").str("0.015").u32(tensors).u32(padding);
  return b.s + std::string(padding, '\0');
}

struct TensorParts {
  std::string name = "w";
  std::vector<uint64_t> dims{4};
  std::vector<uint32_t> codebook;
  uint32_t nonzeros = 0;
  std::string positions, values;
};

// A tensor section's payload: its codebook as u32 values, or (`shared` non-empty) as one-byte
// indices into the shared codebook; counts, lengths and dimensions fixed-width (versions 1
// and 2) or varints (`varints`, version 3).
std::string tensor_payload(const TensorParts& t, const std::vector<uint32_t>& shared = {}, bool varints = false) {
  Bytes b;
  const auto number = [&](uint64_t v, int width) -> Bytes& { return varints ? b.var(v) : b.raw_le(v, width); };
  number(t.name.size(), 2).raw(t.name).u8(static_cast<uint8_t>(t.dims.size()));
  for (uint64_t d : t.dims) number(d, 8);
  b.u8(static_cast<uint8_t>(t.codebook.size()));
  for (uint32_t v : t.codebook)
    shared.empty() ? b.u32(v) : b.u8(static_cast<uint8_t>(std::find(shared.begin(), shared.end(), v) - shared.begin()));
  number(t.nonzeros, 4);
  number(t.positions.size(), 4).raw(t.positions);
  number(t.values.size(), 4).raw(t.values);
  return b.s;
}

std::string file_of(const std::string& header, const std::vector<std::string>& tensors,
                    uint32_t version = 1) {
  Bytes b;
  b.raw("\x89SWS").u32(version).raw(section(header));
  for (const auto& t : tensors) b.raw(section(t));
  return b.s;
}

// The parts of a real tensor, coded by the library's tensor coder.
TensorParts parts_of(const SwsTensor& t) {
  const CodedTensor c = code_tensor(t.values.data(), t.values.size(), grid_of(t.shape));
  TensorParts p;
  p.name = t.name;
  p.dims.assign(t.shape.begin(), t.shape.end());
  p.codebook = c.codebook;
  p.nonzeros = static_cast<uint32_t>(c.nonzeros);
  p.positions = c.positions;
  p.values = c.values;
  return p;
}

double entropy_bits(int64_t ones, int64_t n) {
  if (ones == 0 || ones == n) return 0;
  const double p = static_cast<double>(ones) / n;
  return -n * (p * std::log2(p) + (1 - p) * std::log2(1 - p));
}

}  // namespace

TEST_CASE("sws format: range coder round trip, coded size near the entropy") {
  std::mt19937 rng(7);
  for (double p : {0.5, 0.2, 0.05, 0.02, 0.005}) {
    const int n = 200000;
    std::bernoulli_distribution bit(p);
    std::vector<int> bits(n);
    int64_t ones = 0;
    for (int& b : bits) ones += (b = bit(rng));
    RangeEncoder enc;
    BitModel m;
    for (int b : bits) enc.encode(m, b);
    const std::string stream = enc.finish();
    RangeDecoder dec(reinterpret_cast<const uint8_t*>(stream.data()), stream.size());
    BitModel m2;
    bool same = true;
    for (int b : bits) same &= dec.decode(m2) == b;
    CHECK(same);
    CHECK_NOTHROW(dec.check_end("stream"));
    const double h = entropy_bits(ones, n), coded = 8.0 * stream.size();
    INFO("p = ", p, ": ", coded, " bits coded, entropy ", h);
    CHECK(coded <= 1.02 * h + 64);
    CHECK(coded >= 0.99 * h);
  }
}

TEST_CASE("sws format: range coder with many contexts and a bit tree") {
  // Skewed symbols over 5 bits, each bit of the tree adapting on its own.
  std::mt19937 rng(3);
  std::geometric_distribution<int> geo(0.3);
  std::vector<uint32_t> symbols(50000);
  std::vector<int64_t> counts(32, 0);
  for (auto& s : symbols) ++counts[s = std::min(geo(rng), 31)];
  RangeEncoder enc;
  BitTree tree(5);
  for (uint32_t s : symbols) tree.encode(enc, s);
  const std::string stream = enc.finish();
  RangeDecoder dec(reinterpret_cast<const uint8_t*>(stream.data()), stream.size());
  BitTree tree2(5);
  bool same = true;
  for (uint32_t s : symbols) same &= tree2.decode(dec) == s;
  CHECK(same);
  CHECK_NOTHROW(dec.check_end("stream"));
  double h = 0;
  for (int64_t c : counts)
    if (c) h += c * std::log2(static_cast<double>(symbols.size()) / c);
  CHECK(8.0 * stream.size() <= 1.02 * h + 64);

  // An empty stream decodes (to zeros) and passes the end checks only if nothing was coded.
  RangeEncoder none;
  CHECK(none.finish().empty());
  // Stray bytes after a stream, or a trailing zero byte, fail the end checks.
  const std::string extra = stream + std::string(16, '\x01');
  RangeDecoder dec3(reinterpret_cast<const uint8_t*>(extra.data()), extra.size());
  BitTree tree3(5);
  for (size_t i = 0; i < symbols.size(); ++i) tree3.decode(dec3);
  CHECK_THROWS_AS(dec3.check_end("stream"), Error);
}

TEST_CASE("sws format: round trip is bit-exact for many shapes") {
  std::mt19937 rng(11);
  SwsModel m;
  m.architecture = "lenet5";
  m.config = {{"tau", "0.015"},
              {"components", "17"},
              {"note",
               "gr\xc3\xbc\xc3\x9f"
               "e"}};
  m.tensors.push_back(sparse_tensor("conv1.weight", {20, 1, 5, 5}, 0.3, 12, rng));
  m.tensors.push_back(sparse_tensor("conv1.bias", {20}, 0.4, 5, rng));
  m.tensors.push_back(sparse_tensor("conv2.weight", {50, 20, 5, 5}, 0.04, 16, rng));
  m.tensors.push_back(sparse_tensor("fc1.weight", {100, 80}, 0.02, 14, rng));
  m.tensors.push_back(sparse_tensor("all_zero", {30, 7}, 0.0, 1, rng));
  m.tensors.push_back(sparse_tensor("dense", {9, 13}, 1.0, 7, rng));
  m.tensors.push_back(sparse_tensor("dense_one_value", {17}, 1.0, 1, rng));
  m.tensors.push_back(sparse_tensor("single_nonzero", {1}, 1.0, 1, rng));
  m.tensors.push_back({"single_zero", {1, 1, 1}, {0.0f}});
  m.tensors.push_back({"scalar", {}, {-0.25f}});
  m.tensors.push_back({"empty", {3, 0, 2}, {}});
  m.tensors.push_back(sparse_tensor("column", {64, 1}, 0.1, 3, rng));
  m.tensors.push_back(sparse_tensor("row", {1, 64}, 0.1, 3, rng));
  m.tensors.push_back(sparse_tensor("max_codebook", {40, 40}, 0.5, 255, rng));
  // Whole rows and columns empty.
  SwsTensor holes = sparse_tensor("holes", {60, 70}, 0.2, 10, rng);
  for (int r = 0; r < 60; ++r)
    for (int c = 0; c < 70; ++c)
      if (r % 3 == 0 || c % 4 == 1 || r >= 55) holes.values[r * 70 + c] = 0.0f;
  m.tensors.push_back(holes);
  // Bit patterns that are not ordinary numbers: each is its own codebook entry, bit for bit.
  SwsTensor odd{"odd_bits", {4, 8}, std::vector<float>(32, 0.0f)};
  const uint32_t patterns[] = {0x80000000u /* -0.0 */,
                               0x7F800000u /* +inf */,
                               0xFF800000u /* -inf */,
                               0x7FC00000u /* quiet NaN */,
                               0xFFC00001u /* NaN with payload */,
                               0x7F800001u /* signalling NaN */,
                               0x00000001u /* smallest subnormal */};
  for (int i = 0; i < 7; ++i) odd.values[3 * i + 1] = from_bits(patterns[i]);
  m.tensors.push_back(odd);

  const std::string bytes = encode(m);
  const SwsModel back = decode(bytes);
  check_same(m, back);
  CHECK(to_bits(back.tensors.back().values[1]) == 0x80000000u);
  CHECK(to_bits(back.tensors.back().values[13]) == 0xFFC00001u);
  // Deterministic: the same model gives the same bytes.
  CHECK(encode(back) == bytes);

  // Random shapes and densities.
  for (int trial = 0; trial < 40; ++trial) {
    std::uniform_int_distribution<int> rank_d(0, 4), dim_d(1, 9);
    std::vector<int64_t> shape(rank_d(rng));
    for (auto& d : shape) d = dim_d(rng);
    const double density = std::uniform_real_distribution<double>(0, 1)(rng);
    SwsModel r;
    r.tensors.push_back(sparse_tensor("t", shape, density * density, 1 + trial % 20, rng));
    INFO("trial ", trial);
    check_same(r, decode(encode(r)));
  }
}

TEST_CASE("sws format: exact bytes of a tiny file, and the hand builder agrees with the encoder") {
  SwsModel empty;
  empty.architecture = "a";
  Bytes h;
  h.str("a").u32(0).u32(0).u32(0);
  const std::string expected = file_of(h.s, {});
  CHECK(expected.size() == 4 + 4 + 4 + 15 + 4);
  CHECK(encode_sws(empty, 1) == expected);
  // The example in docs/FORMAT.md, byte for byte.
  const std::string doc = std::string("\x89SWS\x01\0\0\0\x0f\0\0\0\x01\0a", 15) + std::string(12, '\0') +
                          std::string("\x92\x87\x09\xf3", 4);
  CHECK(encode_sws(empty, 1) == doc);
  CHECK(encode_sws(empty, 2) == doc);  // nothing to share: version 1
  // Version 3's smallest file, as docs/FORMAT.md shows it (19 bytes).
  Bytes h3;
  h3.vstr("a").var(0).var(0).u8(0).var(0);
  CHECK(encode(empty) == file3_of(h3.s, {}));
  const std::string doc3 = std::string("\x89SWS\x03\0\0\0\x06\x01\x61\0\0\0\0", 15) + crc_le(std::string("\x06\x01\x61\0\0\0\0", 7));
  CHECK(encode(empty) == doc3);
  CHECK(doc3.size() == 19);

  // One tensor: its own codebook, version 1.
  SwsModel one = small_model(5);
  one.tensors.resize(1);
  Bytes h1;
  h1.str("lenet5").u32(2).str("tau").str("0.015").str("pi0").str("0.999").u32(1).u32(0);
  CHECK(file_of(h1.s, {tensor_payload(parts_of(one.tensors[0]))}) == encode_sws(one, 1));
  // Four tensors drawing on one set of values: version 2, the shared codebook in the header
  // (values by how many tensors use them, then by bit pattern), each tensor's entries as indices.
  const SwsModel m = small_model(5);
  std::map<uint32_t, int> users;
  for (const auto& t : m.tensors)
    for (uint32_t bits : parts_of(t).codebook) ++users[bits];
  std::vector<uint32_t> shared;
  for (const auto& kv : users) shared.push_back(kv.first);
  std::stable_sort(shared.begin(), shared.end(), [&](uint32_t a, uint32_t b) { return users[a] > users[b]; });
  std::vector<std::string> tensors;
  for (const auto& t : m.tensors) tensors.push_back(tensor_payload(parts_of(t), shared));
  Bytes hb;
  hb.str("lenet5").u32(2).str("tau").str("0.015").str("pi0").str("0.999").u32(4).u8(static_cast<uint8_t>(shared.size()));
  for (uint32_t v : shared) hb.u32(v);
  hb.u32(0);
  CHECK(file_of(hb.s, tensors, 2) == encode_sws(m, 2));
  // Smaller than the same tensors with their own codebooks (version 1), which still decodes.
  std::vector<std::string> own;
  for (const auto& t : m.tensors) own.push_back(tensor_payload(parts_of(t)));
  Bytes h4;
  h4.str("lenet5").u32(2).str("tau").str("0.015").str("pi0").str("0.999").u32(4).u32(0);
  const std::string version1 = file_of(h4.s, own);
  CHECK(encode_sws(m, 2).size() < version1.size());
  check_same(decode(version1), m);
  check_same(decode(encode_sws(m, 2)), m);
  // Version 3 (the default): the same fields, every count, length and dimension a varint.
  std::vector<std::string> tensors3;
  for (const auto& t : m.tensors) tensors3.push_back(tensor_payload(parts_of(t), shared, true));
  Bytes hb3;
  hb3.vstr("lenet5").var(2).vstr("tau").vstr("0.015").vstr("pi0").vstr("0.999").var(4).u8(static_cast<uint8_t>(shared.size()));
  for (uint32_t v : shared) hb3.u32(v);
  hb3.var(0);
  CHECK(file3_of(hb3.s, tensors3) == encode(m));
  CHECK(encode(m).size() < encode_sws(m, 2).size());
  check_same(decode(encode(m)), m);
  // Version 3 without sharing (a shared size of 0, each tensor its own u32 codebook) decodes too.
  Bytes h30;
  h30.vstr("lenet5").var(2).vstr("tau").vstr("0.015").vstr("pi0").vstr("0.999").var(1).u8(0).var(0);
  const std::string own3 = tensor_payload(parts_of(one.tensors[0]), {}, true);
  CHECK(file3_of(h30.s, {own3}) == encode(one));
  check_same(decode(file3_of(h30.s, {own3})), one);
  CHECK_THROWS_WITH(encode_sws(m, 4), doctest::Contains("format version 4 does not exist"));
}

TEST_CASE("sws format: hostile version 3 files (varints) are refused with a clear error") {
  // A valid one-tensor file, then its varints broken one way at a time, CRCs kept valid.
  SwsModel one;
  one.architecture = "m";
  one.tensors.push_back({"w", {2, 3}, {0.5f, 0, 0, -0.5f, 0.5f, 0}});
  const TensorParts p = parts_of(one.tensors[0]);
  const auto tensor = [&](const std::string& dims, const std::string& nonzeros) {
    Bytes b;
    b.vstr(p.name).u8(2).raw(dims).u8(static_cast<uint8_t>(p.codebook.size()));
    for (uint32_t v : p.codebook) b.u32(v);
    b.raw(nonzeros).var(p.positions.size()).raw(p.positions).var(p.values.size()).raw(p.values);
    return b.s;
  };
  const auto header = [](const std::string& count) { return Bytes().vstr("m").var(0).raw(count).u8(0).var(0).s; };
  const std::string dims = Bytes().var(2).var(3).s, nz = Bytes().var(p.nonzeros).s, one_tensor = Bytes().var(1).s;
  REQUIRE(decode_error(file3_of(header(one_tensor), {tensor(dims, nz)})).empty());
  check_same(decode(file3_of(header(one_tensor), {tensor(dims, nz)})), one);
  // Not minimal: 1 written as 81 00.
  check_rejects(file3_of(header(std::string("\x81\x00", 2)), {tensor(dims, nz)}), {"tensor count", "not a valid varint"});
  check_rejects(file3_of(header(one_tensor), {tensor(std::string("\x82\x00\x03", 3), nz)}), {"dimension", "not a valid varint"});
  // Over 10 bytes, and past 64 bits in its tenth.
  check_rejects(file3_of(header(std::string(10, '\x80') + "\x01"), {}), {"tensor count", "not a valid varint"});
  check_rejects(file3_of(header(std::string(9, '\xff') + "\x02"), {}), {"tensor count", "not a valid varint"});
  // A value too large for the field it stands for: a count past 32 bits, a name past 16.
  check_rejects(file3_of(header(Bytes().var(uint64_t{1} << 32).s), {}), {"tensor count", "more than 32 bits"});
  check_rejects(file3_of(Bytes().var(70000).raw(std::string(70000, 'a')).var(0).var(0).u8(0).var(0).s, {}),
                {"architecture", "more than 16 bits"});
  // The largest valid varints (2^63 in 10 bytes, 2^64 - 1) read, then refused by the dimension's bound.
  check_rejects(file3_of(header(one_tensor), {tensor(std::string(9, '\x80') + "\x01" + Bytes().var(3).s, nz)}),
                {"dimension of 9223372036854775808"});
  check_rejects(file3_of(header(one_tensor), {tensor(std::string(9, '\xff') + "\x01" + Bytes().var(3).s, nz)}),
                {"dimension of 18446744073709551615"});
  // 0 written as 80 00; a section length past 4 GiB; counts past the format's limits.
  check_rejects(file3_of(header(std::string("\x80\x00", 2)), {}), {"tensor count", "not a valid varint"});
  check_rejects(std::string("\x89SWS\x03\0\0\0", 8) + Bytes().var(uint64_t{1} << 32).s, {"more than 4 GiB"});
  check_rejects(file3_of(header(Bytes().var(70000).s), {}), {"tensor count 70000"});
  check_rejects(file3_of(Bytes().vstr("m").var(5000).s, {}), {"configuration count 5000"});
  // A dimension past 2^31, a non-zero count past the elements.
  check_rejects(file3_of(header(one_tensor), {tensor(Bytes().var(uint64_t{1} << 32).var(3).s, nz)}),
                {"dimension of 4294967296"});
  check_rejects(file3_of(header(one_tensor), {tensor(dims, Bytes().var(7).s)}), {"declares 7 non-zeros"});
  // The section length: cut off by the end of the file, or not minimal.
  const std::string good = file3_of(header(one_tensor), {tensor(dims, nz)});
  check_rejects(good.substr(0, 8) + "\x80", {"header section", "no valid varint length"});
  const std::string prefix = "\x89SWS" + std::string("\x03\0\0\0", 4);
  const std::string h = header(Bytes().var(0).s);
  Bytes sec;
  sec.u8(static_cast<uint8_t>(0x80 | h.size())).u8(0).raw(h);
  sec.u32(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(sec.s.data()), static_cast<uInt>(sec.s.size()))));
  check_rejects(prefix + sec.s, {"header section", "no valid varint length"});
  // Truncated at every byte: always a clear error.
  for (size_t cut = 0; cut < good.size(); ++cut) {
    INFO("cut at ", cut);
    CHECK(!decode_error(good.substr(0, cut)).empty());
  }
}

TEST_CASE("sws format: hostile version 2 files (the shared codebook) are refused with a clear error") {
  // Two tensors of 4 elements, every element non-zero, codebooks {0.5} and {-0.5}: indices 0, 1.
  const auto file = [](std::vector<uint32_t> shared, std::vector<uint8_t> first, std::vector<uint8_t> second) {
    Bytes h;
    h.str("m").u32(0).u32(2).u8(static_cast<uint8_t>(shared.size()));
    for (uint32_t v : shared) h.u32(v);
    h.u32(0);
    std::vector<std::string> tensors;
    int n = 0;
    for (const auto& indices : {first, second}) {
      Bytes t;
      t.str(n++ ? "b" : "a").u8(1).u64(4).u8(static_cast<uint8_t>(indices.size()));
      for (uint8_t i : indices) t.u8(i);
      t.u32(4).u32(0).u32(0);  // 4 non-zeros: no positions; one entry: no values
      tensors.push_back(t.s);
    }
    return file_of(h.s, tensors, 2);
  };
  const uint32_t half = to_bits(0.5f), minus = to_bits(-0.5f);
  const SwsModel ok = decode(file({half, minus}, {0}, {1}));
  CHECK(ok.tensors[1].values[3] == -0.5f);
  check_rejects(file({half, minus}, {0}, {2}), {"tensor 'b'", "shared codebook entry 2 of 2"});
  check_rejects(file({half, half}, {0}, {1}), {"shared codebook holds a value twice"});
  check_rejects(file({half, 0}, {0}, {1}), {"shared codebook holds +0.0"});
  check_rejects(file({half, minus, to_bits(0.25f)}, {0}, {1}), {"shared codebook entry 2 is used by no tensor"});
  check_rejects(file({}, {}, {}), {"empty shared codebook"});
  // A tensor listing one entry twice (its own codebook would hold a value twice).
  Bytes h;
  h.str("m").u32(0).u32(1).u8(2).u32(half).u32(minus).u32(0);
  Bytes t;
  t.str("a").u8(1).u64(4).u8(2).u8(1).u8(1).u32(4).u32(0).u32(0);
  check_rejects(file_of(h.s, {t.s}, 2), {"holds a value twice"});
}

TEST_CASE("sws format: coded size on a realistic sparse layer is at or below the entropy bound") {
  // 500 x 800, 2% non-zero overall: 40% of rows and 30% of columns entirely empty, the rest
  // with row- and column-dependent densities; 10 values with skewed counts.
  std::mt19937 rng(2024);
  const int rows = 500, cols = 800;
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> row_rate(rows), col_rate(cols);
  for (auto& r : row_rate) r = u(rng) < 0.4 ? 0.0 : std::exp(0.7 * std::normal_distribution<double>()(rng));
  for (auto& c : col_rate) c = u(rng) < 0.3 ? 0.0 : std::exp(0.7 * std::normal_distribution<double>()(rng));
  const float book[10] = {0.02f, -0.02f, 0.035f, -0.035f, 0.05f, -0.05f, 0.08f, -0.08f, 0.12f, -0.15f};
  const double weights[10] = {30, 28, 14, 13, 6, 5, 2, 1.5, 0.7, 0.3};
  std::discrete_distribution<int> pick(weights, weights + 10);
  SwsTensor t{"fc1.weight", {rows, cols}, std::vector<float>(rows * cols, 0.0f)};
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      if (u(rng) < std::min(1.0, 0.029 * row_rate[r] * col_rate[c])) t.values[r * cols + c] = book[pick(rng)];
  SwsModel m;
  m.tensors.push_back(t);
  const std::string bytes = encode(m);
  check_same(m, decode(bytes));
  const SwsStats s = inspect_sws(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "layer");
  REQUIRE(s.tensors.size() == 1);
  const SwsTensorStats& st = s.tensors[0];
  const double density = static_cast<double>(st.nonzeros) / st.parameters;
  MESSAGE("realistic layer: ", st.nonzeros, " non-zeros (", 100 * density, "%); positions ",
          st.position_bits / st.nonzeros, " bits/nz (order-0 bound ", st.position_entropy_bits / st.nonzeros,
          "), values ", st.value_bits / st.nonzeros, " bits/nz (bound ", st.value_entropy_bits / st.nonzeros,
          "), file ", s.file_bytes, " bytes");
  CHECK(density > 0.015);
  CHECK(density < 0.025);
  CHECK(st.distinct == 10);
  CHECK(st.parameters == rows * cols);
  CHECK(st.position_bits <= st.position_entropy_bits);
  CHECK(st.value_bits <= 1.02 * st.value_entropy_bits + 64);
  CHECK(st.bytes < s.file_bytes);
  CHECK(8.0 * st.bytes > st.position_bits + st.value_bits + 32.0 * st.distinct);
  CHECK(s.parameters == rows * cols);
}

TEST_CASE("sws format: refuses a tensor that is not quantised, and other bad models") {
  SwsModel m;
  m.architecture = "lenet5";
  std::vector<float> v(300);
  for (int i = 0; i < 300; ++i) v[i] = 0.001f * (i + 1);
  m.tensors.push_back({"fc2.weight", {10, 30}, v});
  try {
    encode(m);
    FAIL("no error");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("not quantised") != std::string::npos);
    CHECK(msg.find("fc2.weight") != std::string::npos);
    CHECK(msg.find("300 distinct") != std::string::npos);
    CHECK(msg.find("sws quantize") != std::string::npos);
  }
  SwsModel bad;
  bad.tensors.push_back({"a", {2, 2}, {1, 0, 0}});  // 3 values for 4 elements
  CHECK_THROWS_WITH_AS(encode(bad), doctest::Contains("3 values"), Error);
  bad.tensors = {{"a", {1}, {1}}, {"a", {1}, {2}}};
  CHECK_THROWS_WITH_AS(encode(bad), doctest::Contains("two tensors are named 'a'"), Error);
  bad.tensors = {{"", {1}, {1}}};
  CHECK_THROWS_WITH_AS(encode(bad), doctest::Contains("empty name"), Error);
  bad.tensors = {{"a", {-1}, {}}};
  CHECK_THROWS_WITH_AS(encode(bad), doctest::Contains("negative"), Error);
  bad.tensors = {{"a", {int64_t{1} << 40, 0}, {}}};
  CHECK_THROWS_WITH_AS(encode(bad), doctest::Contains("more than 2^31 elements"), Error);
  bad.tensors = {};
  bad.architecture = "\xff";
  CHECK_THROWS_WITH_AS(encode(bad), doctest::Contains("UTF-8"), Error);
  bad.architecture = "ok";
  bad.config = {{"k", "1"}, {"k", "2"}};
  CHECK_THROWS_WITH_AS(encode(bad), doctest::Contains("'k' appears twice"), Error);
}

TEST_CASE("sws format: write and read a file") {
  TempDir dir("sws_format");
  const SwsModel m = small_model(9);
  write_sws(dir.file("m.sws"), m);
  check_same(m, read_sws(dir.file("m.sws")));
  CHECK_THROWS_WITH_AS(read_sws(dir.file("missing.sws")), doctest::Contains("missing.sws"), Error);
}

TEST_CASE("sws format: truncation at every byte offset is an error") {
  for (uint32_t version : {1u, 2u, 3u}) {
    const std::string bytes = encode_sws(small_model(1), version);
    INFO("version ", version, ", file of ", bytes.size(), " bytes");
    CHECK(bytes.size() < 4096);
    CHECK(bytes[4] == static_cast<char>(version));
    int errors = 0;
    for (size_t n = 0; n < bytes.size(); ++n) {
      const std::string cut = bytes.substr(0, n);
      try {
        decode(cut);
      } catch (const Error&) {
        ++errors;
      }
    }
    CHECK(errors == static_cast<int>(bytes.size()));
    // Bytes appended after a valid file are an error too.
    check_rejects(bytes + std::string(1, '\0'), {"unexpected bytes after the last"});
  }
}

TEST_CASE("sws format: random bit flips anywhere are caught") {
  for (uint32_t version : {1u, 2u, 3u}) {
    INFO("version ", version);
    const std::string bytes = encode_sws(small_model(2), version);
    CHECK(bytes[4] == static_cast<char>(version));
    std::mt19937 rng(99);
    std::uniform_int_distribution<size_t> at(0, bytes.size() * 8 - 1);
    int errors = 0, trials = 0;
    for (int flips : {1, 2, 3, 8}) {
      for (int trial = 0; trial < 1000; ++trial, ++trials) {
        std::string bad = bytes;
        for (int f = 0; f < flips; ++f) {
          const size_t bit = at(rng);
          bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
        }
        if (bad == bytes) {  // flips that cancel out
          ++errors;
          continue;
        }
        try {
          decode(bad);
        } catch (const Error&) {
          ++errors;
        }
      }
    }
    CHECK(errors == trials);
  }
}

TEST_CASE("sws format: wrong magic and wrong version") {
  std::string bytes = encode(small_model(3));
  std::string bad = bytes;
  bad[1] = 'X';
  check_rejects(bad, {"not a .sws file"});
  check_rejects("", {"not a .sws file"});
  check_rejects("PK\x03\x04", {"not a .sws file"});
  bad = bytes;
  bad[4] = 4;
  check_rejects(bad, {"version 4", "not supported", "versions 1 to 3"});
  CHECK(decode_error(file_of(header_payload(0), {}, 1)).empty());
  check_rejects(file_of(header_payload(0), {}, 0xFFFFFFFFu), {"version 4294967295"});
}

TEST_CASE("sws format: hostile files with valid CRCs are refused with a clear error") {
  const std::vector<uint32_t> book3 = {to_bits(0.5f), to_bits(-0.5f), to_bits(0.25f)};
  // Values coded as given (no positions: every element non-zero).
  const auto value_stream = [](std::vector<uint32_t> indices, int bits) {
    RangeEncoder enc;
    BitTree tree(bits);
    for (uint32_t i : indices) tree.encode(enc, i);
    return enc.finish();
  };
  TensorParts ok;
  ok.dims = {4};
  ok.codebook = book3;
  ok.nonzeros = 4;
  ok.values = value_stream({0, 1, 2, 0}, 2);
  REQUIRE(decode_error(file_of(header_payload(1), {tensor_payload(ok)})).empty());

  SUBCASE("huge declared shapes and element counts") {
    TensorParts t;  // all zero: no streams
    t.dims = {uint64_t{1} << 40};
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"dimension"});
    t.dims = {65536, 65536};
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"more than 2^31 elements"});
    // 2^31 elements of zeros in a 60-byte file: past the element budget of a file that size.
    t.dims = {uint64_t{1} << 31};
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}),
                  {"more than a file of this size may hold"});
    // The budget is 2^16 elements plus 4096 per file byte: a tiny file with 2^22 zeros is
    // refused, the same file padded by 1024 bytes is accepted.
    t.dims = {uint64_t{1} << 22};
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"may hold"});
    const SwsModel padded = decode(file_of(header_payload(1, 1024), {tensor_payload(t)}));
    CHECK(padded.tensors[0].values.size() == size_t{1} << 22);
    // The budget counts all tensors together.
    TensorParts a = t, b = t;
    a.dims = {uint64_t{1} << 16}, b.dims = {uint64_t{1} << 19};
    b.name = "w2";
    check_rejects(file_of(header_payload(2), {tensor_payload(a), tensor_payload(b)}), {"'w2'", "may hold"});
    t.dims = {2, 3, 4, 5, 6, 7, 8, 9, 10};
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"rank 9"});
  }
  SUBCASE("inconsistent counts and sizes") {
    TensorParts t = ok;
    t.nonzeros = 5;
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"5 non-zeros in 4 elements"});
    t = ok;
    t.nonzeros = 0;
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"0 non-zeros but 3 codebook values"});
    t = ok;
    t.codebook = {};
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"4 non-zeros but 0 codebook values"});
    t = ok;
    t.positions = "\x01";
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"without zeros has a position stream"});
    t = ok;
    t.nonzeros = 3;  // a position stream is now due, and the empty one decodes to the wrong count
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"non-zeros"});
    // A declared stream length past the section's end.
    std::string p = tensor_payload(ok);
    p.resize(p.size() - ok.values.size());
    check_rejects(file_of(header_payload(1), {p}), {"value stream needs"});
    // Extra bytes inside a section.
    check_rejects(file_of(header_payload(1), {tensor_payload(ok) + "x"}), {"unexpected bytes at the end"});
    // A section length past the end of the file.
    std::string f = file_of(header_payload(1), {tensor_payload(ok)});
    f[f.size() - 4 - tensor_payload(ok).size() - 4] = '\x7f';
    check_rejects(f, {"tensor section 0", "truncated"});
    // Codebook: a zero entry, a repeated entry, an unused entry.
    t = ok;
    t.codebook[1] = 0;
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"+0.0"});
    t.codebook[1] = t.codebook[0];
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"twice"});
    t = ok;
    t.values = value_stream({0, 1, 1, 0}, 2);
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"codebook value 2 is never used"});
    // A stream with stray bytes after its end, and one ending in a zero byte.
    t = ok;
    t.values += std::string(16, '\x05');
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {});
    t = ok;
    t.values += std::string(1, '\0');
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"value stream"});
  }
  SUBCASE("codebook index out of range") {
    TensorParts t = ok;
    t.values = value_stream({0, 1, 2, 3}, 2);
    check_rejects(file_of(header_payload(1), {tensor_payload(t)}), {"codebook index 3 is out of range"});
  }
  SUBCASE("too many tensors") {
    check_rejects(file_of(header_payload(1000), {tensor_payload(ok)}), {"tensor count 1000"});
    check_rejects(file_of(header_payload(0xFFFFFFFFu), {}), {"tensor count"});
    check_rejects(file_of(header_payload(2), {tensor_payload(ok)}), {"tensor count 2"});
    check_rejects(file_of(header_payload(0), {tensor_payload(ok)}), {"unexpected bytes after the last"});
  }
  SUBCASE("lengths past the end") {
    Bytes b;
    b.u16(60000).raw(std::string(40, 'w'));
    check_rejects(file_of(header_payload(1), {b.s}), {"tensor name needs 60000 bytes"});
    Bytes h;
    h.str("lenet5").u32(3000000000u);
    check_rejects(file_of(h.s, {}), {"configuration count 3000000000"});
    Bytes h2;
    h2.str("lenet5").u32(0).u32(0).u32(100000);
    check_rejects(file_of(h2.s, {}), {"padding needs 100000 bytes"});
    check_rejects(file_of(header_payload(0, 3).substr(0, header_payload(0, 3).size() - 1) + "\x01", {}),
                  {"padding byte 2 is not zero"});
  }
  SUBCASE("duplicate and empty names, bad strings") {
    TensorParts a = ok, b = ok;
    check_rejects(file_of(header_payload(2), {tensor_payload(a), tensor_payload(b)}), {"'w' appears twice"});
    a.name = "";
    check_rejects(file_of(header_payload(1), {tensor_payload(a)}), {"tensor name is empty"});
    a.name = "w\xc0\xaf";  // an overlong '/'
    check_rejects(file_of(header_payload(1), {tensor_payload(a)}), {"UTF-8"});
    Bytes h;
    h.str("lenet5").u32(2).str("k").str("1").str("k").str("2").u32(0).u32(0);
    check_rejects(file_of(h.s, {}), {"configuration key 'k' appears twice"});
  }
  SUBCASE("a valid stream for another tensor") {
    std::mt19937 rng(4);
    const SwsTensor real = sparse_tensor("w", {10, 10}, 0.3, 4, rng);
    TensorParts p = parts_of(real);
    REQUIRE(decode_error(file_of(header_payload(1), {tensor_payload(p)})).empty());
    TensorParts q = p;
    q.dims = {10, 11};
    CHECK(!decode_error(file_of(header_payload(1), {tensor_payload(q)})).empty());
    q = p;
    q.nonzeros += 1;
    CHECK(!decode_error(file_of(header_payload(1), {tensor_payload(q)})).empty());
    q = p;
    std::swap(q.positions, q.values);
    CHECK(!decode_error(file_of(header_payload(1), {tensor_payload(q)})).empty());
  }
}

TEST_CASE("sws format: the encoder pads a huge, nearly empty model to the decoder's budget") {
  SwsModel m;
  m.tensors.push_back({"zeros", {1 << 11, 1 << 11}, std::vector<float>(1 << 22, 0.0f)});
  m.tensors[0].values[12345] = 1.5f;
  for (uint32_t version : {1u, 3u}) {
    const std::string bytes = encode_sws(m, version);
    CHECK(bytes.size() >= ((1u << 22) - (1u << 16)) / 4096);
    check_same(m, decode(bytes));
  }
}

TEST_CASE("sws format: encode and decode speed (printed, not checked)") {
  std::mt19937 rng(8);
  SwsModel m;
  m.tensors.push_back(sparse_tensor("fc1.weight", {500, 800}, 0.02, 12, rng));
  m.tensors.push_back(sparse_tensor("conv2.weight", {50, 20, 5, 5}, 0.05, 12, rng));
  const double mb = 4e-6 * (500 * 800 + 50 * 500);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string bytes = encode(m);
  const auto t1 = std::chrono::steady_clock::now();
  const SwsModel back = decode(bytes);
  const auto t2 = std::chrono::steady_clock::now();
  MESSAGE("encode ", mb / std::chrono::duration<double>(t1 - t0).count(), " MB/s, decode ",
          mb / std::chrono::duration<double>(t2 - t1).count(), " MB/s of float32 weights");
  CHECK(back.tensors.size() == 2);
}
