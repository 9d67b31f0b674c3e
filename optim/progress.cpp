#include "optim/progress.h"

#include <unistd.h>

#include <cstdio>

namespace sws {

ProgressLine::ProgressLine(std::string label)
    : label_(std::move(label)), tty_(isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

std::string format_duration(double seconds) {
  char buf[32];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  } else {
    const int s = static_cast<int>(seconds + 0.5);
    std::snprintf(buf, sizeof buf, "%dm%02ds", s / 60, s % 60);
  }
  return buf;
}

void ProgressLine::update(int64_t step, int64_t total, int64_t items_done, const std::string& detail) {
  const auto now = std::chrono::steady_clock::now();
  const double since_print = std::chrono::duration<double>(now - last_print_).count();
  if (step != total && since_print < (tty_ ? 0.2 : 10.0)) return;
  last_print_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? items_done / elapsed : 0.0;
  const double eta = step > 0 ? elapsed * (total - step) / step : 0.0;
  std::fprintf(stderr, "%s%s step %lld/%lld  %s  %.0f img/s  ETA %s%s", tty_ ? "\r\033[K" : "",
               label_.c_str(), static_cast<long long>(step), static_cast<long long>(total), detail.c_str(),
               rate, format_duration(eta).c_str(), tty_ ? "" : "\n");
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

}  // namespace sws
