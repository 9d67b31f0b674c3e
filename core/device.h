// Where a tensor's memory lives. Every tensor carries one; every op runs on the backend of its
// inputs' device (core/backend.h), so a CUDA backend slots in without changes above core/.
#pragma once
#include <string>

namespace sws {

enum class DeviceType { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;

  static Device cpu() { return {DeviceType::CPU, 0}; }
  static Device cuda(int i = 0) { return {DeviceType::CUDA, i}; }
  bool is_cpu() const { return type == DeviceType::CPU; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  // "cpu" or "cuda:0".
  std::string name() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }
};

// Parses "cpu", "cuda" or "cuda:N"; throws sws::Error otherwise.
Device parse_device(const std::string& text);

}  // namespace sws
