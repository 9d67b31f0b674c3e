#include "optim/training_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "optim/finite_check.h"
#include "optim/resume.h"

namespace sws {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TrainingLoop::TrainingLoop(TrainingLoopOptions options, Optimizer& optimizer, NamedTensors state, Module& model,
                           TrainingObserver observer)
    : options_(std::move(options)), optimizer_(optimizer), state_(std::move(state)), model_(model),
      observer_(std::move(observer)) {
  SWS_CHECK(options_.epochs >= 1, options_.stage + ": epochs must be at least 1, got " + std::to_string(options_.epochs));
  SWS_CHECK(options_.batch >= 1, options_.stage + ": batch must be at least 1, got " + std::to_string(options_.batch));
  SWS_CHECK(!state_.empty(), options_.stage + ": nothing to train (no tensors given)");
  for (const Tensor& p : optimizer_.parameters()) {
    bool covered = false;
    for (const auto& named : state_) covered = covered || named.second.same(p);
    SWS_CHECK(covered, options_.stage + ": the optimiser updates a tensor (" + describe(p) +
                           ") that the loop's state lacks; pass every tensor it updates, by name, so that a "
                           "checkpoint holds their values");
  }
}

void TrainingLoop::set_initial_history(nlohmann::json history) {
  SWS_CHECK(history.is_object(), "the initial history must be a JSON object");
  history_ = std::move(history);
}

double TrainingLoop::seconds() const { return resumed_seconds_ + run_seconds_; }

nlohmann::json TrainingLoop::last_record() const {
  const auto it = history_.find("epochs");
  return it == history_.end() || it->empty() ? nlohmann::json::object() : it->back();
}

const nlohmann::json& TrainingLoop::run(const Dataset& train, const std::function<StepLoss(const TrainingStep&)>& loss_fn) {
  const int64_t n = train.size();
  SWS_CHECK(n > 0, options_.stage + ": the training set is empty");
  SWS_CHECK(!ran_, options_.stage + ": a TrainingLoop runs once; make a new one for another run");
  ran_ = true;
  const TrainingLoopOptions& o = options_;
  Rng data_rng(o.shuffle_seed);
  if (!history_.contains("epochs")) history_["epochs"] = nlohmann::json::array();
  if (o.resume && !o.checkpoint.empty()) {
    const ResumeState resumed = load_resume_state(o.checkpoint, o.settings, state_, optimizer_);
    if (resumed.epochs_done > 0) {
      SWS_CHECK(resumed.epochs_done <= o.epochs, o.checkpoint + ": holds " + std::to_string(resumed.epochs_done) +
                                                     " epochs, more than this run's " + std::to_string(o.epochs));
      SWS_CHECK(resumed.history.is_object() && resumed.history.contains("epochs"),
                o.checkpoint + ": written by an older sws (its history has no per-epoch records); start afresh "
                               "without --resume");
      data_rng.set_state(resumed.rng_state);
      history_ = resumed.history;
      resumed_epochs_ = resumed.epochs_done;
      resumed_seconds_ = resumed.seconds;
      if (observer_.on_note)
        observer_.on_note("resuming from " + o.checkpoint + " after epoch " + std::to_string(resumed.epochs_done));
    }
  }
  const int64_t steps_per_epoch = (n + o.batch - 1) / o.batch;
  // One example's shape, from the dataset: [N, ...] -> [batch, ...].
  std::vector<int64_t> shape = train.images.shape();
  const Device device = state_.front().second.device();
  auto batch_tensors = [&](int64_t count, Tensor& x, Tensor& y) {
    shape[0] = count;
    x = Tensor::empty(shape, DType::F32, device);
    y = Tensor::empty({count}, DType::I32, device);
  };
  Tensor x, y;
  batch_tensors(std::min(o.batch, n), x, y);
  const auto run_start = std::chrono::steady_clock::now();
  int64_t global_step = resumed_epochs_ * steps_per_epoch;
  const bool stopped = history_.contains("stopped_after");
  for (int64_t epoch = resumed_epochs_ + 1; epoch <= o.epochs && !stopped; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    const std::vector<int64_t> order = data_rng.permutation(n);
    // Per-example sums of the averaged terms, last values of the others, in the callback's order.
    std::vector<std::pair<std::string, double>> sums;
    std::vector<bool> averaged;
    TrainingStep s;
    s.epoch = epoch, s.epochs = o.epochs, s.steps_per_epoch = steps_per_epoch;
    for (int64_t step = 0; step < steps_per_epoch; ++step, ++global_step) {
      s.step = step + 1, s.global_step = global_step;
      s.first = step * o.batch, s.count = std::min(o.batch, n - s.first);
      if (s.count != x.size(0)) batch_tensors(s.count, x, y);
      gather_batch(train, order, s.first, s.count, x, y);
      s.x = x, s.y = y;
      if (before_step) before_step(s);
      optimizer_.zero_grad();
      const StepLoss result = loss_fn(s);
      SWS_CHECK(result.loss.defined() && result.loss.numel() == 1, o.stage + ": the loss callback must return a scalar loss");
      const double value = result.loss.item();
      SWS_CHECK(std::isfinite(value), o.stage + " diverged at epoch " + std::to_string(epoch) + ", step " +
                                          std::to_string(step + 1) + ": the loss is " + std::to_string(value) +
                                          (o.hint.empty() ? "" : " (" + o.hint + ")"));
      result.loss.backward();
      check_finite(state_, true, o.stage, epoch, step + 1, o.hint);
      optimizer_.step();
      check_finite(state_, false, o.stage, epoch, step + 1, o.hint);
      if (after_step) after_step(s);
      if (sums.empty())
        for (const LossTerm& t : result.terms) sums.emplace_back(t.name, 0.0), averaged.push_back(t.averaged);
      SWS_CHECK(sums.size() == result.terms.size(), o.stage + ": the loss callback changed its terms between steps");
      for (size_t i = 0; i < sums.size(); ++i) {
        // A term that is the loss itself reuses the value read above (one device sync less).
        const double v = result.terms[i].value.same(result.loss) ? value : result.terms[i].value.item();
        sums[i].second = averaged[i] ? sums[i].second + v * s.count : v;
      }
      if (observer_.on_step) {
        StepProgress p{o.stage, epoch, o.epochs, step + 1, steps_per_epoch, s.first + s.count, {}};
        for (size_t i = 0; i < sums.size(); ++i)
          p.terms.emplace_back(sums[i].first, averaged[i] ? sums[i].second / (s.first + s.count) : sums[i].second);
        observer_.on_step(p);
      }
    }
    s.x = Tensor(), s.y = Tensor();
    nlohmann::json record = {{"epoch", epoch}, {"train_seconds", seconds_since(epoch_start)}};
    std::vector<std::string> shown;
    for (size_t i = 0; i < sums.size(); ++i) {
      record[sums[i].first] = averaged[i] ? sums[i].second / n : sums[i].second;
      shown.push_back(sums[i].first);
    }
    for (const auto& [name, data] : o.evaluations) {
      record[name] = evaluate_accuracy(model_, *data);
      shown.push_back(name);
    }
    EpochEnd end{o.stage, epoch, o.epochs, n, record, history_, shown};
    if (on_epoch) on_epoch(end);
    if (observer_.on_epoch) observer_.on_epoch(end);
    history_["epochs"].push_back(std::move(record));
    if (end.stop) history_["stopped_after"] = epoch;
    run_seconds_ = seconds_since(run_start);
    if (!o.checkpoint.empty())
      save_resume_state(o.checkpoint, {epoch, data_rng.state(), o.settings, history_, seconds()}, state_, optimizer_);
    if (end.stop) break;
  }
  run_seconds_ = seconds_since(run_start);
  return history_;
}

}  // namespace sws
