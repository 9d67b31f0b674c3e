// A live progress line on stderr: rewritten in place on a terminal, printed every few seconds
// otherwise (so logs stay readable).
#pragma once
#include <chrono>
#include <string>

namespace sws {

// One stage's line: step/total, a detail, throughput and ETA.
class ProgressLine {
 public:
  explicit ProgressLine(std::string label);  // "pretraining epoch 3/20"
  // Shows step/total with a free-form detail ("loss 0.1234"); throughput and ETA are derived.
  void update(int64_t step, int64_t total, int64_t items_done, const std::string& detail);
  // Ends the line (on a terminal) so that the next output starts cleanly.
  void finish();

 private:
  std::string label_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_print_;
};

// "1m05s" / "12.3s".
std::string format_duration(double seconds);

}  // namespace sws
