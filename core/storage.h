// A block of device memory shared by a tensor and its views. It returns its memory to the
// backend's allocator when the last tensor referring to it goes away.
#pragma once
#include <cstddef>
#include <memory>

#include "core/device.h"

namespace sws {

class Backend;

// One allocation, owned through shared_ptr by every tensor that views it; not copyable.
class Storage {
 public:
  // Allocates `bytes` bytes (uninitialised) from `device`'s backend; throws sws::Error when that
  // device has no backend (a CUDA device in a CPU-only build).
  Storage(size_t bytes, Device device);
  ~Storage();  // hands the memory back to the backend's caching allocator
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }      // the block's start (device memory for a CUDA storage)
  size_t bytes() const { return bytes_; }   // the block's size in bytes
  Device device() const { return device_; }  // where the block lives

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
  Backend* backend_ = nullptr;
};

}  // namespace sws
