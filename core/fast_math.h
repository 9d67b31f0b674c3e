// exp and log for float written in plain arithmetic (Cephes' polynomials, range reduction by
// bit manipulation), so that loops calling them vectorise: glibc's expf/logf are scalar calls.
// Relative error below 3e-7 (tested against std::exp / std::log in tests/test_fast_math.cpp).
#pragma once
#include <cstdint>

namespace sws {

// The float whose IEEE-754 bit pattern is i, and the inverse (no conversion of the value).
inline float bits_to_float(int32_t i) { return __builtin_bit_cast(float, i); }
inline int32_t float_to_bits(float f) { return __builtin_bit_cast(int32_t, f); }

// e^x for x in about [-87.3, 88.3]; x outside is clamped to that range first (so no 0 or inf).
inline float fast_exp(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  // x = n ln2 + r with n = round(x / ln2): adding and removing 1.5 * 2^23 rounds to an integer.
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = x - n * 0.693359375f + n * 2.12194440e-4f;          // ln2 in two parts
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * bits_to_float((static_cast<int32_t>(n) + 127) << 23);  // times 2^n
}

// Natural log for finite normal x > 0 (no check: 0, negatives, subnormals, inf, NaN give garbage).
inline float fast_log(float x) {
  const int32_t bits = float_to_bits(x);
  float e = static_cast<float>(((bits >> 23) & 0xff) - 126);
  float m = bits_to_float((bits & 0x007fffff) | 0x3f000000);  // x = m 2^e, m in [0.5, 1)
  const bool small = m < 0.707106781186547524f;                // keep m near 1: m in [0.707, 1.414)
  e = small ? e - 1.0f : e;
  m = small ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  y += -2.12194440e-4f * e;
  y += -0.5f * z;
  return m + y + 0.693359375f * e;
}

}  // namespace sws
