#include "compress/pretrain.h"

#include <cmath>

#include "autograd/ops.h"
#include "core/error.h"
#include "optim/adam.h"

namespace sws {

void validate(const PretrainSettings& s) {
  SWS_CHECK(s.epochs >= 1, "the pretraining epochs must be at least 1, got " + std::to_string(s.epochs) +
                               " (--pretrain-epochs; --epochs of sws pretrain)");
  SWS_CHECK(s.batch >= 1, "the pretraining batch must be at least 1, got " + std::to_string(s.batch) +
                              " (--pretrain-batch; --batch of sws pretrain)");
  SWS_CHECK(s.lr > 0 && std::isfinite(s.lr), "the pretraining learning rate must be a positive number (--pretrain-lr; --lr of sws pretrain)");
  SWS_CHECK(s.schedule == "constant" || s.schedule == "cosine",
            "the pretraining schedule must be constant or cosine, got '" + s.schedule + "'");
}

nlohmann::json to_json(const PretrainSettings& s) {
  return {{"epochs", s.epochs}, {"batch", s.batch}, {"lr", s.lr}, {"schedule", s.schedule},
          {"optimizer", "adam"}, {"seed", s.seed}};
}

PretrainResult pretrain(Module& model, const PretrainSettings& s, const Dataset& train, const StageRun& run) {
  validate(s);
  nlohmann::json settings = to_json(s);
  settings.update(run_settings(run, model, train));
  Adam adam({{"weights", model.named_parameters(), {}}}, AdamDefaults{s.lr});
  TrainingLoopOptions o;
  o.stage = "pretraining", o.epochs = s.epochs, o.batch = s.batch, o.shuffle_seed = s.seed ^ 0x5eedda7aULL;
  o.hint = "try a smaller learning rate (--pretrain-lr; --lr of sws pretrain)";
  o.checkpoint = run.checkpoint, o.resume = run.resume, o.settings = settings, o.evaluations = run.evaluations;
  o.comm = run.comm;
  const int64_t steps_per_epoch = (train.size() + s.batch - 1) / s.batch, total_steps = steps_per_epoch * s.epochs;
  if (run.observer.on_note)
    run.observer.on_note("pretraining " + run.architecture + ": " + std::to_string(model.parameter_count()) +
                         " parameters, " + std::to_string(train.size()) + " training images, " +
                         std::to_string(s.epochs) + " epochs of " + std::to_string(steps_per_epoch) + " steps");
  TrainingLoop loop(o, adam, model.named_parameters(), model, run.observer);
  if (s.schedule == "cosine")
    loop.before_step = [&](const TrainingStep& step) {
      adam.group("weights").options.lr = 0.5 * s.lr * (1.0 + std::cos(M_PI * step.global_step / total_steps));
    };
  const nlohmann::json& history = loop.run(train, [&](const TrainingStep& step) {
    const Tensor loss = cross_entropy(model(step.x), step.y);
    // On several ranks each contributes its share's mean weighted by its share of the batch.
    if (step.ranks == 1) return StepLoss{loss, {{"train_loss", loss}}};
    return StepLoss{mul_scalar(loss, step.share), {{"train_loss", loss}}};
  });
  PretrainResult r;
  const nlohmann::json last = loop.last_record();
  r.accuracy = run.evaluations.empty() ? 0.0 : last.value(run.evaluations.front().first, 0.0);
  r.seconds = loop.seconds();
  r.metrics = {{"stage", "pretrained"}, {"model", run.architecture}, {"parameters", model.parameter_count()},
               {"seconds", r.seconds}, {"epochs", history.at("epochs")}, {"settings", settings}};
  r.metrics.update(final_accuracies(run, last));
  return r;
}

}  // namespace sws
