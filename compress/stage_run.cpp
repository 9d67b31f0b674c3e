#include "compress/stage_run.h"

#include "core/threads.h"

namespace sws {

namespace {

// "test_accuracy" -> "test" + suffix; other names + suffix.
std::string evaluation_key(const std::string& name, const std::string& suffix) {
  const std::string accuracy = "_accuracy";
  const bool ends = name.size() > accuracy.size() &&
                    name.compare(name.size() - accuracy.size(), accuracy.size(), accuracy) == 0;
  return (ends ? name.substr(0, name.size() - accuracy.size()) : name) + suffix;
}

}  // namespace

nlohmann::json run_settings(const StageRun& run, const Module& model, const Dataset& train) {
  const std::vector<Tensor> params = model.parameters();
  nlohmann::json s = {{"model", run.architecture}, {"threads", num_threads()},
                      {"device", params.empty() ? std::string("cpu") : params.front().device().name()},
                      {"train_images", train.size()}};
  for (const auto& [name, data] : run.evaluations) s[evaluation_key(name, "_images")] = data->size();
  return s;
}

double record_test_accuracy(Module& model, const Dataset& test, nlohmann::json& metrics, Communicator* comm) {
  const double a = evaluate_accuracy(model, test, comm);
  metrics["test_accuracy"] = a, metrics["test_error"] = 1.0 - a, metrics["test_images"] = test.size();
  return a;
}

nlohmann::json final_accuracies(const StageRun& run, const nlohmann::json& record) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, data] : run.evaluations) {
    const double a = record.value(name, 0.0);
    out[name] = a;
    out[evaluation_key(name, "_error")] = 1.0 - a;
  }
  return out;
}

}  // namespace sws
