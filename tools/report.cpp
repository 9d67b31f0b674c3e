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
  os << "# sws run: " << model << "\n\n"
     << "| stage | test accuracy | test error | non-zero weights | distinct non-zero values | compression rate (paper's accounting) | time |\n"
     << "|---|---|---|---|---|---|---|\n";
  auto seconds = [](const nlohmann::json& j) { return format_duration(j.value("seconds", 0.0)); };
  if (m.contains("pretrained")) {
    const double a = m["pretrained"]["test_accuracy"];
    os << "| pretrained | " << percent(a) << " | " << percent(1 - a) << " | 100% | - | 1x | " << seconds(m["pretrained"]) << " |\n";
  }
  const double r = m["retrained"]["test_accuracy"], q = m["quantized"]["test_accuracy"];
  os << "| retrained | " << percent(r) << " | " << percent(1 - r) << " | - | - | - | " << seconds(m["retrained"]) << " |\n";
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.1fx", account.rate());
  os << "| quantized | " << percent(q) << " | " << percent(1 - q) << " | " << percent(m["quantized"]["nonzero_fraction"])
     << " | " << m["quantized"]["distinct_values"] << " | " << rate << " | " << seconds(m["quantized"]) << " |\n\n";
  if (m["compression"].contains("file_bytes")) {
    char line[160];
    std::snprintf(line, sizeof line, "The real file `model.sws`: %lld bytes, **%.1fx** smaller than 32-bit floats "
                  "(`sws inspect model.sws` shows where the bits go).\n\n",
                  m["compression"]["file_bytes"].get<long long>(), m["compression"]["file_rate"].get<double>());
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
