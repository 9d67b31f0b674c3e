#include "optim/console_observer.h"

#include <cstdio>
#include <memory>

#include "optim/progress.h"

namespace sws {

namespace {

// "cross_entropy" -> "cross entropy"; accuracies as percentages, other values with 5 digits.
std::string show(const std::string& name, double value) {
  std::string label = name;
  for (char& c : label)
    if (c == '_') c = ' ';
  char text[96];
  const bool percent = name.size() >= 8 && name.compare(name.size() - 8, 8, "accuracy") == 0;
  if (percent) std::snprintf(text, sizeof text, "%s %.2f%%", label.c_str(), 100.0 * value);
  else std::snprintf(text, sizeof text, "%s %.5g", label.c_str(), value);
  return text;
}

}  // namespace

TrainingObserver console_observer() {
  // The line of the epoch in progress; a new epoch (or stage) starts a new one.
  auto line = std::make_shared<std::unique_ptr<ProgressLine>>();
  TrainingObserver o;
  o.on_step = [line](const StepProgress& p) {
    if (p.step == 1 || !*line)
      *line = std::make_unique<ProgressLine>(p.stage + " epoch " + std::to_string(p.epoch) + "/" + std::to_string(p.epochs));
    std::string detail;
    for (const auto& [name, value] : p.terms) detail += (detail.empty() ? "" : "  ") + show(name, value);
    (*line)->update(p.step, p.steps_per_epoch, p.examples_done, detail);
    if (p.step == p.steps_per_epoch) (*line)->finish(), line->reset();
  };
  o.on_epoch = [line](EpochEnd& e) {
    std::string text = e.stage + " epoch " + std::to_string(e.epoch) + "/" + std::to_string(e.epochs);
    for (const std::string& key : e.shown) text += "  " + show(key, e.record.at(key).get<double>());
    const double seconds = e.record.value("train_seconds", 0.0);
    std::printf("%s  (%s, %.0f img/s)\n", text.c_str(), format_duration(seconds).c_str(),
                seconds > 0 ? e.examples / seconds : 0.0);
    std::fflush(stdout);
  };
  o.on_note = [](const std::string& note) { std::fprintf(stderr, "%s\n", note.c_str()); };
  return o;
}

}  // namespace sws
