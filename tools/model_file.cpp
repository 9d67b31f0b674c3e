#include "tools/model_file.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "compress/sws_module.h"
#include "core/safetensors.h"
#include "nn/checkpoint.h"
#include "nn/models.h"

namespace sws {

namespace {

bool is_model_name(const std::string& name) { return model_name_problem(name).empty(); }

}  // namespace

std::vector<std::pair<std::string, std::string>> mnist_sws_config() {
  return {{"input", "1x28x28"}, {"classes", "10"}, {"written_by", "sws 0.1.0"}};
}

SwsModel mnist_sws_model(const Module& model, const std::string& architecture) {
  return to_sws_model(model, architecture, mnist_sws_config());
}

std::shared_ptr<Sequential> from_sws_model(const SwsModel& file, const std::string& what) {
  SWS_CHECK(is_model_name(file.architecture),
            what + " holds a '" + file.architecture + "', an architecture the sws command does not know (it knows " +
                "lenet300, lenet5, tutorial and mlp:SIZES): evaluating it needs the model's code, in a program that builds the module "
                "and reads the file with sws::load_sws_into (compress/sws_module.h); `sws inspect` and "
                "`sws decompress` read any .sws file");
  std::shared_ptr<Sequential> model = make_model(file.architecture, 0);
  load_sws_into(*model, file, what);
  return model;
}

bool is_sws_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "\x89SWS", 4) == 0;
}

std::shared_ptr<Sequential> load_model_file(const std::string& path, const std::string& model_name,
                                            std::string* name_out) {
  if (is_sws_file(path)) {
    const SwsModel file = read_sws(path);
    SWS_CHECK(model_name.empty() || model_name == file.architecture,
              path + " holds a " + file.architecture + ", not a " + model_name);
    if (name_out) *name_out = file.architecture;
    return from_sws_model(file, path);
  }
  std::string name = model_name;
  if (name.empty()) {
    const auto meta = read_safetensors(path).metadata;
    auto it = meta.find("sws.model");
    SWS_CHECK(it != meta.end(), path + ": no 'sws.model' in its metadata; pass --model");
    name = it->second;
  }
  auto model = make_model(name, 0);
  load_checkpoint(*model, path);
  if (name_out) *name_out = name;
  return model;
}

int64_t compress_command(const std::string& input, const std::string& output) {
  const std::string path = std::filesystem::is_directory(input) ? input + "/quantized.safetensors" : input;
  SWS_CHECK(!is_sws_file(path), path + " is already a .sws file");
  const auto meta = read_safetensors(path).metadata;
  auto stage = meta.find("sws.stage");
  SWS_CHECK(stage == meta.end() || stage->second == "quantized",
            path + " is not quantised (it is the " + stage->second +
                " checkpoint); compress the output of `sws quantize` or `sws run` (quantized.safetensors)");
  std::string name;
  auto model = load_model_file(path, "", &name);
  const std::string bytes = encode_sws(mnist_sws_model(*model, name));
  write_file_atomically(output, bytes);
  const int64_t params = model->parameter_count();
  std::printf("wrote %s: %zu bytes for %lld parameters (%.1fx smaller than 32-bit floats)\n", output.c_str(),
              bytes.size(), static_cast<long long>(params), 4.0 * params / bytes.size());
  return static_cast<int64_t>(bytes.size());
}

void decompress_command(const std::string& input, const std::string& output) {
  SWS_CHECK(is_sws_file(input), input + " is not a .sws file");
  // Any architecture: the file holds every tensor with its name and shape, which is all a
  // checkpoint needs.
  const SwsModel file = read_sws(input);
  std::vector<SafetensorsView> views;
  int64_t parameters = 0;
  for (const SwsTensor& t : file.tensors) {
    views.push_back({t.name, DType::F32, t.shape, t.values.data()});
    parameters += static_cast<int64_t>(t.values.size());
  }
  write_safetensors(output, views, {{"sws.model", file.architecture}, {"sws.stage", "quantized"}});
  std::printf("wrote %s (%s, %lld parameters)\n", output.c_str(), file.architecture.c_str(),
              static_cast<long long>(parameters));
}

void inspect_command(const std::string& path, bool json) {
  const std::vector<uint8_t> bytes = read_whole_file(path, kSwsMaxFileSize);
  const SwsModel model = decode_sws(bytes.data(), bytes.size(), path);
  const SwsStats stats = inspect_sws(bytes.data(), bytes.size(), path);
  int64_t nonzeros = 0;
  double pos = 0, val = 0, pos_h = 0, val_h = 0;
  for (const SwsTensorStats& t : stats.tensors)
    nonzeros += t.nonzeros, pos += t.position_bits, val += t.value_bits, pos_h += t.position_entropy_bits,
        val_h += t.value_entropy_bits;
  const double rate = stats.file_bytes ? 4.0 * stats.parameters / stats.file_bytes : 0.0;
  // The range-coded streams against everything around them (header, names, shapes, lengths,
  // codebooks, CRCs): at a few kilobytes the framing is a sizeable share of a file.
  const int64_t stream_bytes = static_cast<int64_t>((pos + val) / 8);
  const int64_t framing_bytes = stats.file_bytes - stream_bytes;
  if (json) {
    nlohmann::json j = {{"file", path}, {"architecture", model.architecture}, {"file_bytes", stats.file_bytes},
                        {"parameters", stats.parameters}, {"nonzeros", nonzeros}, {"file_rate", rate},
                        {"stream_bytes", stream_bytes}, {"framing_bytes", framing_bytes},
                        {"tensors", nlohmann::json::array()}};
    for (const SwsTensorStats& t : stats.tensors)
      j["tensors"].push_back({{"name", t.name}, {"shape", t.shape}, {"parameters", t.parameters},
                              {"nonzeros", t.nonzeros}, {"distinct", t.distinct}, {"position_bits", t.position_bits},
                              {"value_bits", t.value_bits}, {"position_entropy_bits", t.position_entropy_bits},
                              {"value_entropy_bits", t.value_entropy_bits}, {"bytes", t.bytes}});
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s: %s, %lld bytes, %lld parameters, %lld non-zeros (%.2f%%), %.1fx smaller than float32\n",
              path.c_str(), model.architecture.c_str(), static_cast<long long>(stats.file_bytes),
              static_cast<long long>(stats.parameters), static_cast<long long>(nonzeros),
              stats.parameters ? 100.0 * nonzeros / stats.parameters : 0.0, rate);
  std::printf("%-12s %-16s %10s %9s %8s %22s %22s %8s\n", "tensor", "shape", "params", "non-zero", "distinct",
              "position bits/nz (H)", "value bits/nz (H)", "bytes");
  auto per_nz = [](double bits, int64_t nz) { return nz ? bits / nz : 0.0; };
  for (const SwsTensorStats& t : stats.tensors) {
    char pos_s[32], val_s[32];
    std::snprintf(pos_s, sizeof pos_s, "%.2f (%.2f)", per_nz(t.position_bits, t.nonzeros),
                  per_nz(t.position_entropy_bits, t.nonzeros));
    std::snprintf(val_s, sizeof val_s, "%.2f (%.2f)", per_nz(t.value_bits, t.nonzeros),
                  per_nz(t.value_entropy_bits, t.nonzeros));
    std::printf("%-12s %-16s %10lld %9lld %8lld %22s %22s %8lld\n", t.name.c_str(), shape_str(t.shape).c_str(),
                static_cast<long long>(t.parameters), static_cast<long long>(t.nonzeros),
                static_cast<long long>(t.distinct), pos_s, val_s, static_cast<long long>(t.bytes));
  }
  char pos_s[32], val_s[32];
  std::snprintf(pos_s, sizeof pos_s, "%.2f (%.2f)", per_nz(pos, nonzeros), per_nz(pos_h, nonzeros));
  std::snprintf(val_s, sizeof val_s, "%.2f (%.2f)", per_nz(val, nonzeros), per_nz(val_h, nonzeros));
  std::printf("%-12s %-16s %10lld %9lld %8s %22s %22s %8lld\n", "total", "", static_cast<long long>(stats.parameters),
              static_cast<long long>(nonzeros), "", pos_s, val_s, static_cast<long long>(stats.file_bytes));
  std::printf("(H: the empirical order-0 entropy per non-zero of positions and values; the coder's context model "
              "can beat the position bound)\n");
  std::printf("coded streams %lld bytes; framing (header, names, shapes, lengths, codebooks, CRCs) %lld bytes, "
              "%.1f%% of the file\n",
              static_cast<long long>(stream_bytes), static_cast<long long>(framing_bytes),
              stats.file_bytes ? 100.0 * framing_bytes / stats.file_bytes : 0.0);
}

}  // namespace sws
