#include <doctest/doctest.h>

#include <cmath>

#include "core/fast_math.h"

TEST_CASE("fast_exp and fast_log agree with std to 3e-7 relative") {
  double worst_exp = 0, worst_log = 0;
  for (int i = 0; i <= 200000; ++i) {
    const float x = -87.0f + 175.0f * static_cast<float>(i) / 200000.0f;
    const double want = std::exp(static_cast<double>(x));
    worst_exp = std::max(worst_exp, std::fabs(sws::fast_exp(x) - want) / want);
    const float y = std::ldexp(1.0f + static_cast<float>(i % 1000) / 1000.0f, i / 1000 - 100);
    const double want_log = std::log(static_cast<double>(y));
    worst_log = std::max(worst_log, std::fabs(sws::fast_log(y) - want_log) / std::max(1.0, std::fabs(want_log)));
  }
  MESSAGE("worst relative error: exp " << worst_exp << ", log " << worst_log);
  CHECK(worst_exp < 3e-7);
  CHECK(worst_log < 3e-7);
  CHECK(sws::fast_exp(-200.0f) < 1e-37f);  // clamped, never NaN
  CHECK(sws::fast_log(1.0f) == 0.0f);
}
