// A seeded random number generator (xoshiro256**, seeded through SplitMix64) whose state can be
// saved and restored, so that runs are reproducible and resumable bit for bit on any platform
// (std:: distributions are implementation-defined, so none are used).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace sws {

// Not thread-safe: one generator per thread (or a lock) if shared.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { seed_with(seed); }  // as seed_with(seed)
  // Resets the state from `seed` through SplitMix64; every seed (0 included) is valid.
  void seed_with(uint64_t seed);
  // 64 random bits.
  uint64_t next_u64();
  // Uniform in [0, 1) with 53 random bits.
  double uniform();
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Standard normal (Box-Muller; no cached second value, so the state is just four words).
  double normal();
  // Uniform integer in [0, n), without modulo bias (rejection); n must be >= 1 (n = 0 divides by 0).
  uint64_t below(uint64_t n);
  // A uniformly random permutation of 0..n-1 (Fisher-Yates); n >= 0.
  std::vector<int64_t> permutation(int64_t n);

  // The whole state (four words), for checkpoints; set_state() resumes the exact sequence.
  std::array<uint64_t, 4> state() const { return s_; }
  void set_state(const std::array<uint64_t, 4>& s) { s_ = s; }  // not all zero (xoshiro's fixed point)

 private:
  std::array<uint64_t, 4> s_{};
};

}  // namespace sws
