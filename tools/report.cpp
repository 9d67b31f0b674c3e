#include "tools/report.h"

#include <cstdio>
#include <sstream>

#include "optim/progress.h"

namespace sws {

namespace {

std::string percent(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f%%", 100.0 * x);
  return b;
}

}  // namespace

std::string run_report(const std::string& model, const nlohmann::json& m, const PaperAccount& account) {
  std::ostringstream os;
  if (m.value("status", std::string("ok")) == "failed")
    os << "# FAILED: the quantised model is not a usable result\n\n" << m.value("failure", std::string()) << "\n\n";
  os << "# sws run: " << model << "\n\n"
     << "Decisions are made on the validation split (" << m.value("validation_images", 0) << " of the "
     << m.value("validation_images", 0) + m.value("train_images", 0) << " training images); "
     << (m.contains("retrained") && m["retrained"].contains("test_accuracy")
             ? "the test set is read once per stage, for this table.\n\n"
             : "the test set is switched off (`--no-test`, as in a search's trials).\n\n")
     << "| stage | validation accuracy | test accuracy | test error | non-zero weights | distinct non-zero values | "
        "compression rate (paper's accounting) | time |\n"
     << "|---|---|---|---|---|---|---|---|\n";
  auto seconds = [](const nlohmann::json& j) { return format_duration(j.value("seconds", 0.0)); };
  auto accuracies = [](const nlohmann::json& j) {
    if (!j.contains("test_accuracy")) return percent(j.value("validation_accuracy", 0.0)) + " | - | -";
    const double a = j.value("test_accuracy", 0.0);
    return percent(j.value("validation_accuracy", 0.0)) + " | " + percent(a) + " | " + percent(1 - a);
  };
  if (m.contains("pretrained"))
    os << "| pretrained | " << accuracies(m["pretrained"]) << " | 100% | - | 1x | " << seconds(m["pretrained"]) << " |\n";
  const nlohmann::json& r = m["retrained"];
  os << "| retrained (" << r.value("epochs_run", 0) << " epochs) | " << accuracies(r) << " | - | - | - | " << seconds(r)
     << " |\n";
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.1fx", account.rate());
  const nlohmann::json& q = m["quantized"];
  os << "| quantized | " << accuracies(q) << " | " << percent(q["nonzero_fraction"]) << " | " << q["distinct_values"]
     << " | " << rate << " | " << seconds(q) << " |\n\n";
  if (m["compression"].contains("file_bytes")) {
    char line[200];
    const std::string file = m["compression"].value("file", std::string("model.sws"));
    std::snprintf(line, sizeof line, "The real file `%s`: %lld bytes, **%.1fx** smaller than 32-bit floats "
                  "(`sws inspect %s` shows where the bits go).\n\n", file.c_str(),
                  m["compression"]["file_bytes"].get<long long>(), m["compression"]["file_rate"].get<double>(), file.c_str());
    os << line;
  }
  os << "## Compression, per tensor (after Han et al. 2016, as the paper counts it)\n\n"
     << account_table(account);
  return os.str();
}

std::string account_table(const PaperAccount& account) {
  std::ostringstream os;
  os << "| tensor | parameters | non-zeros | distinct | gap bits | fillers | index bits | value bits | codebook bits | rate |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n";
  char line[256];
  for (const TensorAccount& a : account.tensors) {
    std::snprintf(line, sizeof line, "| %s | %lld | %lld | %lld | %d | %lld | %lld | %lld | %lld | %.1fx |\n",
                  a.name.c_str(), (long long)a.parameters, (long long)a.nonzeros, (long long)a.distinct, a.gap_bits,
                  (long long)a.fillers, (long long)a.index_bits, (long long)a.value_bits, (long long)a.codebook_bits,
                  a.total_bits() ? 32.0 * a.parameters / a.total_bits() : 0.0);
    os << line;
  }
  std::snprintf(line, sizeof line, "| **total** | %lld | | | | | | | %lld bits | **%.1fx** |\n",
                (long long)account.parameters, (long long)account.total_bits, account.rate());
  os << line;
  return os.str();
}

}  // namespace sws
