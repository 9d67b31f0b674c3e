#include "optim/training_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "core/error.h"
#include "core/rng.h"
#include "optim/finite_check.h"
#include "optim/resume.h"

namespace sws {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The tensors whose gradients the ranks sum: those the optimiser updates (the optimiser zeroes
// their gradients every step), in the state's order. One dtype, since they travel in one buffer.
std::vector<Tensor> reduced_tensors(const NamedTensors& state, const Optimizer& optimizer, const std::string& stage) {
  std::vector<Tensor> out;
  for (const auto& [name, t] : state) {
    bool updated = false;
    for (const Tensor& p : optimizer.parameters()) updated = updated || p.same(t);
    if (!updated) continue;
    SWS_CHECK(out.empty() || t.dtype() == out.front().dtype(),
              stage + ": data-parallel training sums every gradient in one buffer of one dtype; " + name +
                  " has another than the first trained tensor");
    out.push_back(t);
  }
  return out;
}

// Runs `work`; on several ranks an sws::Error it throws becomes a CollectiveError: for work on
// state every rank holds alike, which fails alike everywhere.
void collective(int ranks, const std::function<void()>& work) {
  if (ranks == 1) return work();
  try {
    work();
  } catch (const CollectiveError&) {
    throw;
  } catch (const CommunicationError&) {
    throw;  // a collective inside the work failed: the job must abort
  } catch (const Error& e) {
    throw CollectiveError(e.what());
  }
}

// The gradients of every reduced tensor as views of one flat buffer, followed by the step's
// scalars (loss, terms): backward accumulates straight into it (AccumulateGrad adds into a
// defined gradient) and one allreduce sums it in place, with no copy in or out.
struct FlatGradients {
  Tensor buffer;
  int64_t gradients = 0;  // elements before the scalars

  FlatGradients(const std::vector<Tensor>& tensors, size_t scalars) {
    for (const Tensor& t : tensors) gradients += t.numel();
    buffer = Tensor::zeros({gradients + static_cast<int64_t>(scalars)}, tensors.front().dtype(), tensors.front().device());
    int64_t offset = 0;
    for (Tensor t : tensors) {
      t.set_grad(buffer.rows(offset, t.numel()).view(t.shape()));
      offset += t.numel();
    }
  }

  // Sums the buffer over the ranks with this rank's scalars in its tail; returns the summed scalars.
  std::vector<double> allreduce(Communicator& comm, const std::vector<double>& scalars) {
    const int64_t k = static_cast<int64_t>(scalars.size());
    buffer.rows(gradients, k).copy_(Tensor::from_vector(scalars, {k}, Device::cpu()));
    comm.allreduce_sum(buffer);
    return buffer.rows(gradients, k).to_double_vector();
  }
};
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
  // A run's result depends on its rank count (the shares): a resume on another is refused.
  if (rank_count(options_.comm) > 1) {
    if (!options_.settings.is_object()) options_.settings = nlohmann::json::object();
    options_.settings["ranks"] = options_.comm->size();
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
  Communicator* comm = o.comm;
  const int ranks = rank_count(comm), rank = rank_of(comm);
  const bool reporter = rank == 0;  // writes the checkpoint and calls the observer
  const int64_t steps_per_epoch = (n + o.batch - 1) / o.batch;
  const int64_t last_batch = n - (steps_per_epoch - 1) * o.batch;
  if (last_batch < ranks)
    throw CollectiveError(o.stage + ": the epoch's last batch holds " + std::to_string(last_batch) +
                                     " examples, fewer than the " + std::to_string(ranks) +
                                     " ranks; every rank needs one: choose another batch size or fewer ranks");
  Rng data_rng(o.shuffle_seed);
  if (!history_.contains("epochs")) history_["epochs"] = nlohmann::json::array();
  if (o.resume && !o.checkpoint.empty()) {
    // Every rank reads the checkpoint (a shared folder); one that cannot stops them all.
    ResumeState resumed;
    run_on_every_rank(comm, [&] {
      resumed = load_resume_state(o.checkpoint, o.settings, state_, optimizer_);
      if (resumed.epochs_done > 0) {
        SWS_CHECK(resumed.epochs_done <= o.epochs, o.checkpoint + ": holds " + std::to_string(resumed.epochs_done) +
                                                       " epochs, more than this run's " + std::to_string(o.epochs));
        SWS_CHECK(resumed.history.is_object() && resumed.history.contains("epochs"),
                  o.checkpoint + ": written by an older sws (its history has no per-epoch records); start afresh "
                                 "without --resume");
      }
    });
    if (ranks > 1) {
      // Every rank must have read the same checkpoint (a run folder on a disk all of them see):
      // compare each rank's epochs, data-order state and history with rank 0's.
      const std::string mine = std::to_string(resumed.epochs_done) + " " + resumed.history.dump() + " " +
                               std::to_string(resumed.rng_state[0]) + std::to_string(resumed.rng_state[1]) +
                               std::to_string(resumed.rng_state[2]) + std::to_string(resumed.rng_state[3]);
      std::string first = mine;
      comm->broadcast(first, 0);
      run_on_every_rank(comm, [&] {
        SWS_CHECK(first == mine, o.checkpoint + ": this rank resumes from " +
                                     (resumed.epochs_done ? "epoch " + std::to_string(resumed.epochs_done) : "nothing") +
                                     ", not from rank 0's checkpoint: --resume needs the run folder on a disk every "
                                     "rank sees");
      });
    }
    if (resumed.epochs_done > 0) {
      data_rng.set_state(resumed.rng_state);
      history_ = resumed.history;
      resumed_epochs_ = resumed.epochs_done;
      resumed_seconds_ = resumed.seconds;
      if (observer_.on_note && reporter)
        observer_.on_note("resuming from " + o.checkpoint + " after epoch " + std::to_string(resumed.epochs_done));
    }
  }
  // Every rank starts from rank 0's tensors (a model initialised from another seed, or read
  // from another file, is overwritten rather than silently trained apart).
  if (ranks > 1)
    for (auto& named : state_) comm->broadcast(named.second, 0);
  const std::vector<Tensor> reduced = ranks > 1 ? reduced_tensors(state_, optimizer_, o.stage) : std::vector<Tensor>{};
  std::unique_ptr<FlatGradients> flat;  // made at the first step, when the terms are known
  double comm_seconds = 0;
  // One example's shape, from the dataset: [N, ...] -> [batch, ...].
  std::vector<int64_t> shape = train.images.shape();
  const Device device = state_.front().second.device();
  auto batch_tensors = [&](int64_t count, Tensor& x, Tensor& y) {
    shape[0] = count;
    x = Tensor::empty(shape, DType::F32, device);
    y = Tensor::empty({count}, DType::I32, device);
  };
  Tensor x, y;
  batch_tensors(share_of(std::min(o.batch, n), rank, ranks).count, x, y);
  const auto run_start = std::chrono::steady_clock::now();
  int64_t global_step = resumed_epochs_ * steps_per_epoch;
  const bool stopped = history_.contains("stopped_after");
  for (int64_t epoch = resumed_epochs_ + 1; epoch <= o.epochs && !stopped; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    comm_seconds = 0;
    const std::vector<int64_t> order = data_rng.permutation(n);
    // Per-example sums of the averaged terms, last values of the others, in the callback's order
    // (this rank's; on several ranks `shown_sums` holds the whole batches' for the progress line).
    std::vector<std::pair<std::string, double>> sums, shown_sums;
    std::vector<bool> averaged;
    TrainingStep s;
    s.epoch = epoch, s.epochs = o.epochs, s.steps_per_epoch = steps_per_epoch, s.rank = rank, s.ranks = ranks;
    for (int64_t step = 0; step < steps_per_epoch; ++step, ++global_step) {
      s.step = step + 1, s.global_step = global_step;
      const int64_t batch_first = step * o.batch;
      s.batch_count = std::min(o.batch, n - batch_first);
      const Share mine = share_of(s.batch_count, rank, ranks);
      s.first = batch_first + mine.first, s.count = mine.count;
      s.share = ranks > 1 ? static_cast<double>(s.count) / static_cast<double>(s.batch_count) : 1.0;
      if (s.count != x.size(0)) batch_tensors(s.count, x, y);
      gather_batch(train, order, s.first, s.count, x, y);
      s.x = x, s.y = y;
      if (before_step) before_step(s);
      optimizer_.zero_grad();
      const StepLoss result = loss_fn(s);
      SWS_CHECK(result.loss.defined() && result.loss.numel() == 1, o.stage + ": the loss callback must return a scalar loss");
      double value = result.loss.item();
      if (sums.empty())
        for (const LossTerm& t : result.terms) sums.emplace_back(t.name, 0.0), averaged.push_back(t.averaged);
      SWS_CHECK(sums.size() == result.terms.size(), o.stage + ": the loss callback changed its terms between steps");
      std::vector<double> terms(sums.size());
      for (size_t i = 0; i < sums.size(); ++i)  // a term that is the loss itself reuses its value (one sync less)
        terms[i] = result.terms[i].value.same(result.loss) ? value : result.terms[i].value.item();
      auto diverged = [&](double v) {
        return o.stage + " diverged at epoch " + std::to_string(epoch) + ", step " + std::to_string(step + 1) +
               ": the loss is " + std::to_string(v) + (o.hint.empty() ? "" : " (" + o.hint + ")");
      };
      if (ranks == 1) {
        SWS_CHECK(std::isfinite(value), diverged(value));
        result.loss.backward();
      } else {
        // A non-finite loss on one rank makes the summed one non-finite on all: every rank then
        // stops with the same message, none waits for another.
        if (!flat) flat = std::make_unique<FlatGradients>(reduced, 1 + terms.size());
        result.loss.backward();
        std::vector<double> scalars{value};
        for (size_t i = 0; i < terms.size(); ++i) scalars.push_back(averaged[i] ? terms[i] * s.count : terms[i]);
        const auto reduce_start = std::chrono::steady_clock::now();
        const std::vector<double> summed = flat->allreduce(*comm, scalars);
        comm_seconds += seconds_since(reduce_start);
        value = summed[0];
        if (!std::isfinite(value)) throw CollectiveError(diverged(value));
        if (shown_sums.empty()) shown_sums = sums;
        for (size_t i = 0; i < terms.size(); ++i)
          shown_sums[i].second = averaged[i] ? shown_sums[i].second + summed[i + 1] : summed[i + 1];
      }
      // From here every rank holds the same gradients and state, so an error is raised alike on all.
      collective(ranks, [&] {
        check_finite(state_, true, o.stage, epoch, step + 1, o.hint);
        optimizer_.step();
        check_finite(state_, false, o.stage, epoch, step + 1, o.hint);
        if (after_step) after_step(s);
      });
      for (size_t i = 0; i < sums.size(); ++i)
        sums[i].second = averaged[i] ? sums[i].second + terms[i] * s.count : terms[i];
      if (observer_.on_step && reporter) {
        const auto& shown = ranks > 1 ? shown_sums : sums;
        StepProgress p{o.stage, epoch, o.epochs, step + 1, steps_per_epoch, batch_first + s.batch_count, {}};
        for (size_t i = 0; i < shown.size(); ++i)
          p.terms.emplace_back(shown[i].first, averaged[i] ? shown[i].second / p.examples_done : shown[i].second);
        observer_.on_step(p);
      }
    }
    s.x = Tensor(), s.y = Tensor();
    if (ranks > 1) {
      // The epoch's exact sums: per-example sums and the batch-independent terms' pieces, in double.
      std::vector<double> local;
      for (const auto& term : sums) local.push_back(term.second);
      Tensor t = Tensor::from_vector(local, {static_cast<int64_t>(local.size())}, Device::cpu());
      comm->allreduce_sum(t);
      const std::vector<double> total = t.to_double_vector();
      for (size_t i = 0; i < sums.size(); ++i) sums[i].second = total[i];
    }
    nlohmann::json record = {{"epoch", epoch}, {"train_seconds", seconds_since(epoch_start)}};
    if (ranks > 1) {
      record["ranks"] = ranks;
      record["allreduce_seconds"] = comm_seconds;
      record["allreduce_bytes_per_step"] = flat ? flat->buffer.numel() * static_cast<int64_t>(dtype_size(flat->buffer.dtype())) : 0;
    }
    std::vector<std::string> shown;
    for (size_t i = 0; i < sums.size(); ++i) {
      record[sums[i].first] = averaged[i] ? sums[i].second / n : sums[i].second;
      shown.push_back(sums[i].first);
    }
    for (const auto& [name, data] : o.evaluations) {
      record[name] = evaluate_accuracy(model_, *data, comm);
      shown.push_back(name);
    }
    EpochEnd end{o.stage, epoch, o.epochs, n, record, history_, shown};
    if (on_epoch) collective(ranks, [&] { on_epoch(end); });
    if (observer_.on_epoch && reporter) observer_.on_epoch(end);
    if (ranks > 1) {
      // The stage's hook decides alike on every rank; rank 0's observer may have stopped the run too.
      Tensor stop = Tensor::full({1}, end.stop ? 1.0 : 0.0, DType::F64, Device::cpu());
      comm->broadcast(stop, 0);
      end.stop = stop.item() > 0;
    }
    history_["epochs"].push_back(std::move(record));
    if (end.stop) history_["stopped_after"] = epoch;
    run_seconds_ = seconds_since(run_start);
    if (!o.checkpoint.empty() && reporter)
      save_resume_state(o.checkpoint, {epoch, data_rng.state(), o.settings, history_, seconds()}, state_, optimizer_);
    if (end.stop) break;
  }
  run_seconds_ = seconds_since(run_start);
  return history_;
}

}  // namespace sws
