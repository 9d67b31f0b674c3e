// Where a tensor's memory lives. Every tensor carries one; every op runs on the backend of its
// inputs' device (core/backend.h), so a CUDA backend slots in without changes above core/.
#pragma once
#include <string>

namespace sws {

// The kinds of memory a tensor can live in.
enum class DeviceType { CPU, CUDA };

// A device: its kind and, for CUDA, which GPU. A plain value, compared field by field.
struct Device {
  DeviceType type = DeviceType::CPU;  // the kind of memory
  int index = 0;                      // the GPU's number for CUDA; 0 for the CPU

  static Device cpu() { return {DeviceType::CPU, 0}; }             // the host
  static Device cuda(int i = 0) { return {DeviceType::CUDA, i}; }  // GPU number i
  bool is_cpu() const { return type == DeviceType::CPU; }          // host memory
  // Same kind and index.
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  // "cpu" or "cuda:0".
  std::string name() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// Parses "cpu", "cuda" (= cuda:0) or "cuda:N"; throws sws::Error otherwise. It does not check
// that the device exists (tensor creation does).
Device parse_device(const std::string& text);

}  // namespace sws
