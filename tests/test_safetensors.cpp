// Tests for core/safetensors: exact bytes of a tiny file, bit-exact round trips, and rejection of
// every kind of malformed file with a message that says what is wrong.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "temp_dir.h"
#include "core/error.h"
#include "core/safetensors.h"

namespace fs = std::filesystem;
using namespace sws;
using sws::testing::TempDir;

namespace {


// A file from a header text (not padded) and a data section of `data_size` bytes.
std::string make_file(const std::string& header, size_t data_size) {
  std::string out;
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out += header;
  for (size_t i = 0; i < data_size; ++i) out.push_back(static_cast<char>(i));
  return out;
}

SafetensorsFile parse(const std::string& bytes, const std::string& what = "t.safetensors") {
  return parse_safetensors(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), what);
}

// The message of the sws::Error that parsing `bytes` throws ("" if none).
std::string parse_error(const std::string& bytes) {
  try {
    parse(bytes);
  } catch (const Error& e) { return e.what(); }
  return "";
}

// Checks that parsing fails with a message naming the file and containing every `parts`.
void check_rejects(const std::string& bytes, std::initializer_list<const char*> parts) {
  const std::string msg = parse_error(bytes);
  INFO("message: ", msg);
  CHECK(!msg.empty());
  CHECK(msg.find("'t.safetensors'") != std::string::npos);
  for (const char* part : parts) CHECK(msg.find(part) != std::string::npos);
}

template <class T>
std::vector<uint8_t> raw(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

}  // namespace

TEST_CASE("safetensors: exact bytes of a tiny file") {
  const float values[2] = {1.0f, -2.0f};
  const std::string bytes = encode_safetensors({{"a", DType::F32, {2}, values}}, {});
  // {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} is 54 bytes; padded to 56.
  const std::string json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  ";
  REQUIRE(json.size() == 56);
  std::string expected("\x38\0\0\0\0\0\0\0", 8);
  expected += json;
  expected += std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);  // 1.0f, -2.0f little-endian
  CHECK(bytes.size() == 8 + 56 + 8);
  CHECK(bytes == expected);

  // With metadata: "__metadata__" comes first, as the reference writer puts it.
  const std::string with_meta = encode_safetensors({{"a", DType::F32, {2}, values}}, {{"k", "v"}});
  const std::string json2 =
      "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,"
      "8]}}";
  const size_t padded = (json2.size() + 7) / 8 * 8;
  CHECK(static_cast<uint8_t>(with_meta[0]) == padded);
  CHECK(with_meta.substr(8, padded) == json2 + std::string(padded - json2.size(), ' '));

  // No tensors at all: "{}" padded to 8 bytes, empty data section.
  CHECK(encode_safetensors({}, {}) == std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
  CHECK(parse(encode_safetensors({}, {})).tensors.empty());
}

TEST_CASE("safetensors: round trip is bit-exact, with metadata") {
  TempDir dir;
  const std::string path = (dir.path / "m.safetensors").string();
  std::vector<float> w = {0.5f, -0.0f, std::nanf("0x123"), INFINITY, 1e-45f, -3.25f};
  std::vector<double> b = {1.0 / 3.0, -1e300, 4.9e-324};
  std::vector<int32_t> labels = {7, -1, 2147483647, -2147483647 - 1};
  const int32_t scalar = 42;
  const std::map<std::string, std::string> meta = {{"format", "sws"}, {"epoch", "3"}, {"", ""}};
  write_safetensors(path,
                    {{"layer.weight", DType::F32, {2, 3}, w.data()},
                     {"layer.bias", DType::F64, {3}, b.data()},
                     {"step", DType::I32, {}, &scalar},
                     {"empty", DType::F32, {0, 4}, nullptr},
                     {"labels", DType::I32, {4}, labels.data()}},
                    meta);
  CHECK(std::vector<std::string>{"m.safetensors"} ==
        std::vector<std::string>{fs::directory_iterator(dir.path)->path().filename().string()});
  const std::vector<uint8_t> file_bytes = read_whole_file(path, 1 << 20);
  uint64_t n = 0;
  std::memcpy(&n, file_bytes.data(), 8);
  CHECK(n % 8 == 0);

  const SafetensorsFile f = read_safetensors(path);
  CHECK(f.metadata == meta);
  REQUIRE(f.tensors.size() == 5);
  const char* names[] = {"layer.weight", "layer.bias", "step", "empty", "labels"};
  for (int i = 0; i < 5; ++i) CHECK(f.tensors[i].name == names[i]);

  const SafetensorsEntry* e = f.find("layer.weight");
  REQUIRE(e != nullptr);
  CHECK(e->dtype == DType::F32);
  CHECK(e->shape == std::vector<int64_t>{2, 3});
  CHECK(e->bytes == raw(w));
  e = f.find("layer.bias");
  REQUIRE(e != nullptr);
  CHECK(e->dtype == DType::F64);
  CHECK(e->shape == std::vector<int64_t>{3});
  CHECK(e->bytes == raw(b));
  e = f.find("step");
  REQUIRE(e != nullptr);
  CHECK(e->dtype == DType::I32);
  CHECK(e->shape.empty());
  CHECK(e->bytes == raw(std::vector<int32_t>{42}));
  e = f.find("empty");
  REQUIRE(e != nullptr);
  CHECK(e->shape == std::vector<int64_t>{0, 4});
  CHECK(e->bytes.empty());
  e = f.find("labels");
  REQUIRE(e != nullptr);
  CHECK(e->bytes == raw(labels));
  CHECK(f.find("missing") == nullptr);

  // Without metadata the header has no "__metadata__" and the result has none.
  const std::string plain = encode_safetensors({{"x", DType::F64, {3}, b.data()}}, {});
  CHECK(plain.find("__metadata__") == std::string::npos);
  const SafetensorsFile g = parse(plain);
  CHECK(g.metadata.empty());
  REQUIRE(g.tensors.size() == 1);
  CHECK(g.tensors[0].bytes == raw(b));
}

TEST_CASE("safetensors: reader accepts any key order and returns tensors in data-offset order") {
  const std::string header =
      "{\"b\":{\"shape\":[1],\"data_offsets\":[4,8],\"dtype\":\"I32\"},"
      "\"__metadata__\":{\"x\":\"y\"},"
      "\"e\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,4]},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}";
  const SafetensorsFile f = parse(make_file(header, 8));
  REQUIRE(f.tensors.size() == 3);
  CHECK(f.tensors[0].name == "a");
  CHECK(f.tensors[1].name == "e");
  CHECK(f.tensors[2].name == "b");
  CHECK(f.tensors[2].bytes == std::vector<uint8_t>{4, 5, 6, 7});
  CHECK(f.metadata.at("x") == "y");
}

TEST_CASE("safetensors: writer rejects duplicate and reserved names and negative shapes") {
  const float v[2] = {1, 2};
  CHECK_THROWS_WITH_AS(
      encode_safetensors({{"a", DType::F32, {1}, v}, {"a", DType::F32, {1}, v + 1}}, {}),
      doctest::Contains("tensor 'a': duplicate tensor name"), Error);
  CHECK_THROWS_WITH_AS(encode_safetensors({{"__metadata__", DType::F32, {1}, v}}, {}),
                       doctest::Contains("reserved"), Error);
  CHECK_THROWS_WITH_AS(encode_safetensors({{"a", DType::F32, {-1, 2}, v}}, {}),
                       doctest::Contains("tensor 'a': negative size -1"), Error);
  CHECK_THROWS_WITH_AS(encode_safetensors({{"a", DType::F32, {2}, nullptr}}, {}),
                       doctest::Contains("null data"), Error);
  TempDir dir;
  const std::string path = (dir.path / "no" / "x.safetensors").string();
  CHECK_THROWS_WITH_AS(write_safetensors(path, {{"a", DType::F32, {2}, v}}),
                       doctest::Contains(path.c_str()), Error);
}

TEST_CASE("safetensors: truncation at every byte offset is rejected") {
  const float w[3] = {1, 2, 3};
  const int32_t s = 5;
  const std::string good =
      encode_safetensors({{"w", DType::F32, {3}, w}, {"s", DType::I32, {}, &s}}, {{"note", "hi"}});
  REQUIRE(parse(good).tensors.size() == 2);
  uint64_t n = 0;
  std::memcpy(&n, good.data(), 8);
  for (size_t k = 0; k < good.size(); ++k) {
    CAPTURE(k);
    const std::string msg = parse_error(good.substr(0, k));
    CHECK(msg.find("'t.safetensors'") != std::string::npos);
    if (k < 8)
      CHECK(msg.find("shorter than the 8-byte header length prefix") != std::string::npos);
    else if (k < 8 + n)
      CHECK(msg.find("runs past the end of the file") != std::string::npos);
    else
      CHECK(msg.find("run past the end of the data section") != std::string::npos);
  }
  // One extra byte at the end is rejected too.
  check_rejects(good + "x", {"data section is 17 bytes but the tensors cover 16"});
}

TEST_CASE("safetensors: malformed headers are rejected with a clear message") {
  const std::string f32_2 = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

  SUBCASE("header length over the cap") {
    std::string bytes = make_file("{}", 0);
    const uint64_t n = kSafetensorsMaxHeaderSize + 1;
    std::memcpy(&bytes[0], &n, 8);
    check_rejects(bytes, {"header length 100000001 exceeds the limit"});
    std::memset(&bytes[0], 0xff, 8);
    check_rejects(bytes, {"exceeds the limit"});
  }
  SUBCASE("header length beyond the file") {
    std::string bytes = make_file("{}", 0);
    bytes[0] = 3;
    check_rejects(bytes, {"header length 3 runs past the end of the file"});
  }
  SUBCASE("invalid JSON") {
    check_rejects(make_file("{\"a\":", 0), {"header is not valid JSON"});
    check_rejects(make_file("{\"a\":1}\x01", 0), {"header is not valid JSON"});
    check_rejects(make_file("{\"\xff\":1}", 0), {"header is not valid JSON"});  // bad UTF-8
    check_rejects(make_file("", 0), {"header is not valid JSON"});
  }
  SUBCASE("header not an object") {
    check_rejects(make_file("[1,2]", 0), {"header is a JSON array, not an object"});
  }
  SUBCASE("entry not an object, missing or extra keys") {
    check_rejects(make_file("{\"a\":3}", 0), {"tensor 'a': entry is a JSON number"});
    check_rejects(make_file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,0]}}", 0),
                  {"tensor 'a': missing 'shape'"});
    check_rejects(
        make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"x\":1}}", 4),
        {"tensor 'a': unexpected key 'x'"});
  }
  SUBCASE("wrong dtype") {
    check_rejects(make_file("{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
                  {"tensor 'a': unknown dtype 'F33'"});
    check_rejects(make_file("{\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
                  {"tensor 'a': dtype is a JSON number, not a string"});
    check_rejects(make_file("{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
                  {"unknown dtype 'f32'"});
  }
  SUBCASE("unsupported dtype BF16") {
    check_rejects(make_file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4),
                  {"tensor 'a': unsupported dtype 'BF16'"});
    check_rejects(make_file("{\"a\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2),
                  {"tensor 'a': unsupported dtype 'BOOL'"});
  }
  SUBCASE("shape and byte count disagree") {
    check_rejects(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
                  {"tensor 'a': shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8"});
    check_rejects(make_file("{\"a\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,4]}}", 4),
                  {"tensor 'a'", "needs 8 bytes"});
  }
  SUBCASE("bad shapes") {
    check_rejects(
        make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,0]}}", 0),
        {"tensor 'a': shape [2,-1] has a negative size"});
    check_rejects(
        make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8),
        {"tensor 'a'", "not an integer"});
    check_rejects(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8),
                  {"tensor 'a': shape is a JSON number, not an array"});
    check_rejects(make_file("{\"a\":{\"dtype\":\"I32\",\"shape\":[4294967296,4294967296,4],"
                            "\"data_offsets\":[0,0]}}",
                            0),
                  {"tensor 'a'", "too many elements"});
    check_rejects(make_file("{\"a\":{\"dtype\":\"I32\",\"shape\":[18446744073709551615],"
                            "\"data_offsets\":[0,0]}}",
                            0),
                  {"tensor 'a'", "too large"});
  }
  SUBCASE("bad data_offsets") {
    check_rejects(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8),
                  {"tensor 'a': data_offsets must be [begin, end]"});
    check_rejects(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8),
                  {"tensor 'a': data_offsets must be [begin, end]"});
    check_rejects(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8),
                  {"tensor 'a': data_offsets [8, 0]: begin is after end"});
  }
  SUBCASE("offsets out of range") {
    check_rejects(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8),
                  {"tensor 'a': data_offsets [0, 16] run past the end of the data section (8"});
    check_rejects(make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
                            "[18446744073709551615,7]}}",
                            8),
                  {"tensor 'a'", "begin is after end"});
  }
  SUBCASE("overlapping offsets") {
    check_rejects(make_file("{\"a\":" + f32_2 +
                                ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                            12),
                  {"tensor 'b': data_offsets [4, 12] overlap tensor 'a', which ends at 8"});
    check_rejects(make_file("{\"a\":" + f32_2 + ",\"b\":" + f32_2 + "}", 8),
                  {"tensor 'b'", "overlap tensor 'a'"});
  }
  SUBCASE("a gap, a late start, trailing bytes") {
    check_rejects(
        make_file("{\"a\":" + f32_2 +
                      ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
                  20),
        {"tensor 'b'", "gap of 4 unused bytes"});
    check_rejects(
        make_file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
        {"tensor 'a'", "gap of 4 unused bytes"});
    check_rejects(make_file("{\"a\":" + f32_2 + "}", 12),
                  {"data section is 12 bytes but the tensors cover 8"});
    check_rejects(make_file("{}", 1), {"data section is 1 bytes but the tensors cover 0"});
  }
  SUBCASE("duplicate names and keys") {
    check_rejects(make_file("{\"a\":" + f32_2 + ",\"a\":" + f32_2 + "}", 8),
                  {"duplicate tensor name 'a'"});
    check_rejects(
        make_file(
            "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            8),
        {"tensor 'a': duplicate key 'dtype'"});
    check_rejects(make_file("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0),
                  {"__metadata__: duplicate key 'k'"});
    check_rejects(make_file("{\"__metadata__\":{},\"__metadata__\":{}}", 0),
                  {"__metadata__ appears twice"});
  }
  SUBCASE("metadata not strings") {
    check_rejects(make_file("{\"__metadata__\":{\"epoch\":3}}", 0),
                  {"__metadata__ value for key 'epoch' is a JSON number", "not a string"});
    check_rejects(make_file("{\"__metadata__\":[\"a\"]}", 0),
                  {"__metadata__ is a JSON array, not an object of strings"});
    check_rejects(make_file("{\"__metadata__\":{\"k\":{\"n\":\"v\"}}}", 0),
                  {"__metadata__ value for key 'k' is a JSON object"});
  }
}

TEST_CASE("safetensors: read_safetensors names the path in its errors") {
  TempDir dir;
  const std::string path = (dir.path / "bad.safetensors").string();
  write_file_atomically(path, std::string("\x02\0\0\0\0\0\0\0{", 9));
  CHECK_THROWS_WITH_AS(read_safetensors(path), doctest::Contains(("'" + path + "'").c_str()),
                       Error);
  const std::string missing = (dir.path / "none.safetensors").string();
  CHECK_THROWS_WITH_AS(read_safetensors(missing), doctest::Contains(missing.c_str()), Error);
}
