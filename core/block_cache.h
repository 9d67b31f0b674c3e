// The cache behind both backends' allocators: freed blocks are kept by (rounded) size and handed
// to the next request of that size, so a steady-state training step makes no system allocation.
// Thread-safe. The backend rounds sizes, obtains and frees the memory itself.
#pragma once
#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/backend.h"

namespace sws {

// Free blocks by size, with the statistics of Backend::memory_stats.
class BlockCache {
 public:
  // A cached block of exactly `size` bytes, or nullptr when there is none (the caller then
  // obtains one from the system and calls count_system_allocation).
  void* take(size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(size);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    stats_.cached_bytes -= size;
    return p;
  }
  // Keeps a block of `size` bytes for reuse.
  void give(void* p, size_t size) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_[size].push_back(p);
    stats_.cached_bytes += size;
  }
  // Records a block obtained from the system.
  void count_system_allocation() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.system_allocations;
  }
  // Empties the cache and returns its blocks, for the caller to give back to the system.
  std::vector<void*> drain() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<void*> blocks;
    for (auto& [size, list] : free_) blocks.insert(blocks.end(), list.begin(), list.end());
    free_.clear();
    stats_.cached_bytes = 0;
    return blocks;
  }
  // System allocations so far and the bytes now cached.
  MemoryStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  MemoryStats stats_;
};

}  // namespace sws
