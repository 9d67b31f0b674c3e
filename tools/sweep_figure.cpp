#include "tools/sweep_figure.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tools/figures.h"
#include "tools/plot/pareto_chart.h"
#include "tools/plot/png.h"

namespace sws {

namespace {

// Published results on the two nets (issue 16's tables). Sizes are the real files where the
// paper reports one; where it reports only a rate by the paper's accounting, the size that rate
// means for 32-bit weights (marked "accounting").
std::vector<plot::ParetoPoint> published(const std::string& model) {
  if (model == "lenet5") {
    const double dense = 431080 * 4.0;
    return {{dense / 162, 0.97, "soft weight-sharing paper (162x, accounting)"},
            {dense / 419, 1.0, "Bayesian Compression (419x, accounting)"},
            {2840, 1.0, "entropy-penalised reparam. (2.84 KB)"},
            {1520, 0.96, "MIRACLE (1.52 KB)"},
            {7830, 0.96, "sws before the search (7.83 KB)"}};
  }
  if (model == "lenet300") {
    const double dense = 266610 * 4.0;
    return {{dense / 64, 1.94, "soft weight-sharing paper (64x, accounting)"},
            {8560, 1.9, "entropy-penalised reparam. (8.56 KB)"},
            {12761, 1.82, "sws before the search (12.76 KB)"}};
  }
  return {};
}

}  // namespace

int draw_sweep_figure(const std::string& dir) {
  const nlohmann::json trials = read_json_file(dir + "/trials.json");
  plot::ParetoSeries ok{"trial (validation error)", {}, plot::colors::blue, 3.0, 0.6f, false};
  plot::ParetoSeries failed{"trial that failed its quantisation check (exit 3)", {}, plot::colors::orange, 3.0, 0.6f, false};
  for (const auto& t : trials.at("trials")) {
    if (t.value("state", std::string()) != "COMPLETE" || !t["file_bytes"].is_number()) continue;
    plot::ParetoPoint p{t["file_bytes"].get<double>(), 100 * t["validation_error"].get<double>(), ""};
    (t.value("status", std::string("ok")) == "failed" ? failed : ok).points.push_back(p);
  }
  const int drawn = static_cast<int>(ok.points.size() + failed.points.size());
  SWS_CHECK(drawn > 0, dir + "/trials.json: no completed trial to draw");
  const std::string model = trials.value("model", std::string());
  std::vector<plot::ParetoSeries> series{ok, failed};
  plot::ParetoSeries paper{"published (test error)", published(model), plot::colors::vermillion, 5.0, 1.f, true};
  if (!paper.points.empty()) series.push_back(paper);
  if (std::filesystem::exists(dir + "/chosen.json")) {
    plot::ParetoSeries chosen{"chosen presets (test error)", {}, plot::colors::bluish_green, 5.0, 1.f, true};
    for (const auto& c : read_json_file(dir + "/chosen.json"))
      chosen.points.push_back({c.at("file_bytes").get<double>(), 100 * c.at("test_error").get<double>(),
                               c.at("label").get<std::string>()});
    series.push_back(chosen);
  }
  plot::ParetoChartOptions o;
  o.title = model + ": " + std::to_string(drawn) + " trials of " + trials.value("study", std::string("the search"));
  // The useful part: up to 3x the largest published error (failed trials far above are cut).
  double top = 0;
  for (const auto& p : paper.points) top = std::max(top, 3 * p.error);
  if (top > 0) o.y_min = 0, o.y_max = top;
  plot::write_png(plot::pareto_chart(series, 2, o).canvas, dir + "/pareto.png");
  return drawn;
}

}  // namespace sws
