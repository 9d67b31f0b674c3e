#include "core/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"

// The data section is raw little-endian bytes, copied as they are to and from memory.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "core/safetensors.cpp assumes a little-endian host");

namespace sws {
namespace {

using Json = nlohmann::ordered_json;  // keeps keys in file order

// Largest file read_safetensors loads: far beyond any model sws trains, it stops a wrong path
// (a disk image, say) from being read into memory whole.
constexpr size_t kMaxFileSize = size_t{16} << 30;

// The dtypes the safetensors format defines; those sws lacks are "unsupported", not "unknown".
const char* const kFormatDTypes[] = {"BOOL", "U8",  "I8",   "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16",
                                     "U16",  "F16", "BF16", "I32",     "U32",     "F32",     "F64",
                                     "I64",  "U64", "F4",   "F6_E2M3", "F6_E3M2", "C64"};

// Number of elements of a shape given as non-negative sizes, or false if it exceeds INT64_MAX.
// A zero size anywhere makes it 0, whatever the other sizes are.
bool checked_numel(const std::vector<uint64_t>& dims, uint64_t* out) {
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  for (uint64_t d : dims)
    if (d == 0) {
      *out = 0;
      return true;
    }
  uint64_t n = 1;
  for (uint64_t d : dims)
    if (d > kMax || __builtin_mul_overflow(n, d, &n) || n > kMax) return false;
  *out = n;
  return true;
}

// A JSON value for an error message, cut short if long.
std::string brief(const Json& j) {
  std::string s = j.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

// Reads a non-negative JSON integer (an unsigned literal, or -0).
bool as_u64(const Json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer() && j.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(j.get<int64_t>());
    return true;
  }
  return false;
}

std::string str(uint64_t v) { return std::to_string(v); }

// One validated header entry, before its bytes are copied.
struct Pending {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};

}  // namespace

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  for (const SafetensorsEntry& e : tensors)
    if (e.name == name) return &e;
  return nullptr;
}

std::string encode_safetensors(const std::vector<SafetensorsView>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  const std::string src = "core/safetensors.cpp: encode_safetensors: ";
  Json header = Json::object();
  if (!metadata.empty()) {
    Json m = Json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  std::set<std::string> seen;
  std::vector<uint64_t> sizes;
  uint64_t offset = 0;
  for (const SafetensorsView& t : tensors) {
    const std::string who = src + "tensor '" + t.name + "': ";
    SWS_CHECK(t.name != "__metadata__", who + "the name __metadata__ is reserved by the format");
    SWS_CHECK(seen.insert(t.name).second, who + "duplicate tensor name");
    std::vector<uint64_t> dims;
    for (int64_t d : t.shape) {
      SWS_CHECK(d >= 0, who + "negative size " + std::to_string(d) + " in its shape");
      dims.push_back(static_cast<uint64_t>(d));
    }
    uint64_t numel = 0, bytes = 0;
    SWS_CHECK(
        checked_numel(dims, &numel) && !__builtin_mul_overflow(numel, dtype_size(t.dtype), &bytes),
        who + "shape has too many elements");
    SWS_CHECK(t.data != nullptr || bytes == 0,
              who + "null data pointer for " + str(bytes) + " bytes");
    SWS_CHECK(!__builtin_add_overflow(offset, bytes, &offset), who + "total size overflows");
    Json entry = Json::object();
    entry["dtype"] = dtype_name(t.dtype);
    entry["shape"] = t.shape;
    entry["data_offsets"] = {offset - bytes, offset};
    header[t.name] = std::move(entry);
    sizes.push_back(bytes);
  }
  std::string json;
  try {
    json = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw Error(src + "a tensor name or metadata string is not valid UTF-8 (" + e.what() + ")");
  }
  json.append((8 - json.size() % 8) % 8, ' ');  // pad as the reference writer does

  std::string out;
  out.reserve(8 + json.size() + offset);
  const uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out += json;
  for (size_t i = 0; i < tensors.size(); ++i)
    if (sizes[i] > 0) out.append(static_cast<const char*>(tensors[i].data), sizes[i]);
  return out;
}

void write_safetensors(const std::string& path, const std::vector<SafetensorsView>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomically(path, encode_safetensors(tensors, metadata));
}

SafetensorsFile parse_safetensors(const uint8_t* data, size_t size, const std::string& what) {
  const std::string src = "core/safetensors.cpp: safetensors '" + what + "': ";
  auto fail = [&](const std::string& msg) { return Error(src + msg); };

  if (size < 8)
    throw fail("file is " + str(size) +
               " bytes, shorter than the 8-byte header length prefix (truncated?)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(data[i]) << (8 * i);
  if (n > kSafetensorsMaxHeaderSize)
    throw fail("header length " + str(n) + " exceeds the limit of " +
               str(kSafetensorsMaxHeaderSize) + " bytes (corrupt file?)");
  if (n > size - 8)
    throw fail("header length " + str(n) + " runs past the end of the file (only " + str(size - 8) +
               " bytes follow the length prefix; truncated?)");
  const char* header_text = reinterpret_cast<const char*>(data) + 8;
  const uint8_t* section = data + 8 + n;
  const uint64_t section_size = size - 8 - n;

  // Plain parsing keeps the last of duplicate keys silently; the callback catches them.
  std::vector<std::set<std::string>> open_objects;
  std::string top_key, duplicate;
  auto callback = [&](int, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == Json::parse_event_t::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == Json::parse_event_t::key && !open_objects.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      const bool fresh = open_objects.back().insert(key).second;
      if (open_objects.size() == 1) {
        top_key = key;
        if (!fresh && duplicate.empty())
          duplicate = key == "__metadata__" ? "__metadata__ appears twice"
                                            : "duplicate tensor name '" + key + "'";
      } else if (!fresh && duplicate.empty()) {
        duplicate = (top_key == "__metadata__" ? "__metadata__" : "tensor '" + top_key + "'") +
                    ": duplicate key '" + key + "'";
      }
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(header_text, header_text + n, callback);
  } catch (const nlohmann::json::exception& e) {
    throw fail("header is not valid JSON: " + std::string(e.what()));
  }
  if (!duplicate.empty()) throw fail(duplicate);
  if (!header.is_object())
    throw fail("header is a JSON " + std::string(header.type_name()) + ", not an object");

  SafetensorsFile file;
  std::vector<Pending> pending;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object())
        throw fail("__metadata__ is a JSON " + std::string(entry.type_name()) +
                   ", not an object of strings");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string())
          throw fail("__metadata__ value for key '" + k + "' is a JSON " +
                     std::string(v.type_name()) + " (" + brief(v) + "), not a string");
        file.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string who = "tensor '" + name + "': ";
    if (!entry.is_object())
      throw fail(who + "entry is a JSON " + std::string(entry.type_name()) +
                 ", not an object with dtype, shape and data_offsets");
    for (const auto& [k, v] : entry.items())
      if (k != "dtype" && k != "shape" && k != "data_offsets")
        throw fail(who + "unexpected key '" + k + "' (expected only dtype, shape, data_offsets)");
    for (const char* k : {"dtype", "shape", "data_offsets"})
      if (!entry.contains(k)) throw fail(who + "missing '" + k + "'");

    Pending p;
    p.name = name;
    const Json& jd = entry["dtype"];
    if (!jd.is_string())
      throw fail(who + "dtype is a JSON " + std::string(jd.type_name()) + ", not a string");
    const std::string dname = jd.get<std::string>();
    if (!dtype_from_name(dname, &p.dtype)) {
      const bool in_format = std::any_of(std::begin(kFormatDTypes), std::end(kFormatDTypes),
                                         [&](const char* d) { return dname == d; });
      throw fail(who + (in_format ? "unsupported dtype '" : "unknown dtype '") + dname +
                 "' (sws reads F32, F64, I32, I64, U8)");
    }

    const Json& js = entry["shape"];
    if (!js.is_array())
      throw fail(who + "shape is a JSON " + std::string(js.type_name()) + ", not an array");
    std::vector<uint64_t> dims;
    for (const Json& d : js) {
      uint64_t v;
      if (!as_u64(d, &v)) {
        if (d.is_number_integer()) throw fail(who + "shape " + brief(js) + " has a negative size");
        throw fail(who + "shape " + brief(js) + " has an entry that is not an integer");
      }
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        throw fail(who + "shape " + brief(js) + " has a size too large");
      dims.push_back(v);
      p.shape.push_back(static_cast<int64_t>(v));
    }
    uint64_t numel = 0, bytes = 0;
    if (!checked_numel(dims, &numel) || __builtin_mul_overflow(numel, dtype_size(p.dtype), &bytes))
      throw fail(who + "shape " + brief(js) + " has too many elements (overflow)");

    const Json& jo = entry["data_offsets"];
    if (!jo.is_array() || jo.size() != 2 || !as_u64(jo[0], &p.begin) || !as_u64(jo[1], &p.end))
      throw fail(who + "data_offsets must be [begin, end] of two non-negative integers, got " +
                 brief(jo));
    const std::string offsets = "data_offsets [" + str(p.begin) + ", " + str(p.end) + "]";
    if (p.end < p.begin) throw fail(who + offsets + ": begin is after end");
    if (p.end - p.begin != bytes)
      throw fail(who + "shape " + brief(js) + " of " + dname + " needs " + str(bytes) +
                 " bytes but " + offsets + " span " + str(p.end - p.begin));
    if (p.end > section_size)
      throw fail(who + offsets + " run past the end of the data section (" + str(section_size) +
                 " bytes; truncated?)");
    pending.push_back(std::move(p));
  }

  // The tensors must tile the data section exactly: sorted, from 0, no gap, no overlap.
  std::stable_sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  std::string previous;
  for (const Pending& p : pending) {
    const std::string offsets = "data_offsets [" + str(p.begin) + ", " + str(p.end) + "]";
    if (p.begin < cursor)
      throw fail("tensor '" + p.name + "': " + offsets + " overlap tensor '" + previous +
                 "', which ends at " + str(cursor));
    if (p.begin > cursor)
      throw fail("tensor '" + p.name + "': " + offsets + " leave a gap of " +
                 str(p.begin - cursor) + " unused bytes before it in the data section");
    cursor = p.end;
    previous = p.name;
  }
  if (cursor != section_size)
    throw fail("data section is " + str(section_size) + " bytes but the tensors cover " +
               str(cursor) + " (trailing bytes, or a wrong header length)");

  file.tensors.reserve(pending.size());
  for (Pending& p : pending) {
    SafetensorsEntry e;
    e.name = std::move(p.name);
    e.dtype = p.dtype;
    e.shape = std::move(p.shape);
    e.bytes.assign(section + p.begin, section + p.end);
    file.tensors.push_back(std::move(e));
  }
  return file;
}

SafetensorsFile read_safetensors(const std::string& path) {
  const std::vector<uint8_t> bytes = read_whole_file(path, kMaxFileSize);
  return parse_safetensors(bytes.data(), bytes.size(), path);
}

}  // namespace sws
