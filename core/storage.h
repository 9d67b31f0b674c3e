// A block of device memory shared by a tensor and its views. It returns its memory to the
// backend's allocator when the last tensor referring to it goes away.
#pragma once
#include <cstddef>
#include <memory>

#include "core/device.h"

namespace sws {

class Backend;

class Storage {
 public:
  // Allocates `bytes` bytes on `device` (uninitialised).
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
  Backend* backend_ = nullptr;
};

}  // namespace sws
