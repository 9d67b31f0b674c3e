#include "tools/figures.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "tools/plot/gif.h"
#include "tools/plot/histogram_chart.h"
#include "tools/plot/line_chart.h"
#include "tools/plot/png.h"
#include "tools/plot/scatter_chart.h"
#include "tools/plot/trajectory_chart.h"

namespace sws {

namespace {

constexpr int kBins = 121;  // odd: 0 sits mid-bin
constexpr int kGifDelay = 40;  // centiseconds per epoch in the film

std::vector<float> all_values(const std::vector<Tensor>& weights) {
  std::vector<float> values;
  for (const Tensor& w : weights) {
    const std::vector<float> v = w.to_float_vector();
    values.insert(values.end(), v.begin(), v.end());
  }
  return values;
}

plot::Histogram histogram_from_json(const nlohmann::json& j) {
  plot::Histogram h;
  const double limit = j.at("limit").get<double>();
  h.lo = -limit, h.hi = limit;
  h.counts = j.at("counts").get<std::vector<uint64_t>>();
  h.total = j.at("total").get<uint64_t>();
  h.outside = j.at("outside").get<uint64_t>();
  SWS_CHECK(h.counts.size() == kBins && limit > 0, "a stored weight histogram is malformed");
  return h;
}

std::vector<plot::MixtureComponent> mixture_of(const nlohmann::json& snapshot) {
  return plot::mixture_from_prior(snapshot.at("means").get<std::vector<double>>(),
                                  snapshot.at("precisions").get<std::vector<double>>(),
                                  snapshot.at("mixing_proportions").get<std::vector<double>>());
}

plot::HistogramOptions frame_options(double limit, uint64_t total, const std::string& title,
                                     const nlohmann::json& snapshot) {
  plot::HistogramOptions o;
  o.bins = kBins, o.x_min = -limit, o.x_max = limit;
  o.log_counts = true;
  o.count_max = std::max<double>(10, 2.0 * total);  // fixed: frames line up
  o.title = title;
  o.mixture = mixture_of(snapshot);
  return o;
}

std::string frame_path(const std::string& run_dir, int64_t epoch) {
  char name[32];
  std::snprintf(name, sizeof name, "epoch_%03lld.png", static_cast<long long>(epoch));
  return run_dir + "/figures/frames/" + name;
}

std::string frame_title(const std::string& model, int64_t epoch, int64_t epochs) {
  return model + ": weights after retraining epoch " + std::to_string(epoch) + " of " + std::to_string(epochs);
}

// The named F32 tensors of a checkpoint, in file order.
std::vector<std::pair<std::string, std::vector<float>>> checkpoint_values(const std::string& path) {
  std::vector<std::pair<std::string, std::vector<float>>> out;
  for (const SafetensorsEntry& e : read_safetensors(path).tensors) {
    SWS_CHECK(e.dtype == DType::F32, path + ": tensor " + e.name + " is not F32");
    std::vector<float> v(e.bytes.size() / sizeof(float));
    std::copy(e.bytes.begin(), e.bytes.end(), reinterpret_cast<uint8_t*>(v.data()));
    out.emplace_back(e.name, std::move(v));
  }
  return out;
}

std::vector<float> flat(const std::vector<std::pair<std::string, std::vector<float>>>& tensors) {
  std::vector<float> all;
  for (const auto& [name, v] : tensors) all.insert(all.end(), v.begin(), v.end());
  return all;
}

// Rounded up to 2 significant digits, for tidy axis ends.
double tidy_limit(double raw) {
  raw = std::max(raw, 1e-6);
  const double unit = std::pow(10.0, std::floor(std::log10(raw)) - 1);
  return std::ceil(raw / unit) * unit;
}

double largest_magnitude(const std::vector<float>& values) {
  float m = 0;
  for (float v : values)
    if (std::isfinite(v)) m = std::max(m, std::abs(v));
  return m;
}

}  // namespace

nlohmann::json weight_histogram(const std::vector<Tensor>& weights, double limit) {
  const plot::Histogram h = plot::bin_values(all_values(weights), kBins, -limit, limit);
  return {{"limit", limit}, {"counts", h.counts}, {"total", h.total}, {"outside", h.outside + h.non_finite}};
}

double histogram_limit(const std::vector<Tensor>& pretrained) {
  const std::vector<float> a = all_values(pretrained);
  SWS_CHECK(!a.empty(), "histogram_limit: no weights");
  float largest = 0;
  for (float v : a) largest = std::max(largest, std::abs(v));
  return tidy_limit(1.2 * largest);
}

void draw_epoch_frame(const std::string& run_dir, int64_t epoch, int64_t epochs, const std::string& model,
                      const nlohmann::json& histogram, const nlohmann::json& prior_snapshot) {
  std::filesystem::create_directories(run_dir + "/figures/frames");
  const plot::Histogram h = histogram_from_json(histogram);
  const plot::HistogramOptions o = frame_options(h.hi, h.total, frame_title(model, epoch, epochs), prior_snapshot);
  plot::write_png(plot::histogram_chart(h, o).canvas, frame_path(run_dir, epoch));
}

nlohmann::json read_json_file(const std::string& path) {
  const std::vector<uint8_t> bytes = read_whole_file(path, 512u << 20);
  try {
    return nlohmann::json::parse(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::exception& e) {
    throw Error(path + ": " + e.what());
  }
}

double draw_run_figures(const std::string& run_dir, bool frames) {
  const auto start = std::chrono::steady_clock::now();
  const std::string figures = run_dir + "/figures";
  std::filesystem::create_directories(figures);
  const nlohmann::json metrics = read_json_file(run_dir + "/metrics.json");
  SWS_CHECK(metrics.contains("retrained") && metrics.contains("quantized"),
            run_dir + "/metrics.json is not from a finished `sws run` (no retrained/quantized results)");
  const std::string model = metrics.value("model", std::string("model"));
  const nlohmann::json& retrained = metrics["retrained"];
  const nlohmann::json& trajectory = retrained.at("prior_trajectory");
  const nlohmann::json& epochs = retrained.at("epochs");
  SWS_CHECK(!trajectory.empty(), run_dir + "/metrics.json has an empty prior trajectory");

  const auto pre = checkpoint_values(run_dir + "/pretrained.safetensors");
  const auto ret = checkpoint_values(run_dir + "/retrained.safetensors");
  const auto quant = checkpoint_values(run_dir + "/quantized.safetensors");
  SWS_CHECK(pre.size() == ret.size() && pre.size() == quant.size(),
            run_dir + ": the three checkpoints hold different tensors");
  for (size_t i = 0; i < pre.size(); ++i)
    SWS_CHECK(pre[i].first == ret[i].first && pre[i].second.size() == ret[i].second.size() &&
                  pre[i].first == quant[i].first && pre[i].second.size() == quant[i].second.size(),
              run_dir + ": the checkpoints differ at tensor " + pre[i].first);
  const std::vector<float> w_pre = flat(pre), w_ret = flat(ret), w_quant = flat(quant);
  // The film's range, widened where retraining pushed components further out.
  const double film_limit = epochs.empty() || !epochs.back().contains("weight_histogram")
                                ? 0.0
                                : epochs.back()["weight_histogram"].at("limit").get<double>();
  const double limit = std::max(film_limit, tidy_limit(1.05 * std::max({largest_magnitude(w_pre),
                                                                        largest_magnitude(w_ret),
                                                                        largest_magnitude(w_quant)})));

  auto histogram = [&](const std::vector<float>& w, const std::string& title, const nlohmann::json& snapshot,
                       bool exclude_zeros, const std::string& file) {
    plot::HistogramOptions o;
    o.bins = kBins, o.x_min = -limit, o.x_max = limit, o.title = title, o.exclude_zeros = exclude_zeros;
    if (!snapshot.is_null()) o.mixture = mixture_of(snapshot);
    plot::write_png(plot::histogram_chart(w, o).canvas, figures + "/" + file);
  };
  histogram(w_pre, model + ": pretrained weights and the prior's initial mixture", trajectory.front(), false,
            "reference.png");
  histogram(w_ret, model + ": retrained weights and the learned mixture", trajectory.back(), false, "retrained.png");
  histogram(w_quant, model + ": post-processed weights (" + std::to_string(metrics["quantized"].value("distinct_values", 0)) +
                         " distinct non-zero values)",
            nlohmann::json(), true, "post-processed.png");

  std::vector<double> epoch_numbers;
  std::vector<std::vector<plot::MixtureComponent>> snapshots;
  for (size_t e = 0; e < trajectory.size(); ++e) epoch_numbers.push_back(double(e)), snapshots.push_back(mixture_of(trajectory[e]));
  plot::TrajectoryOptions t;
  t.title = model + ": mixture components during retraining (mean, +-2 sigma)";
  plot::write_png(plot::trajectory_chart(epoch_numbers, snapshots, t).canvas, figures + "/trajectories.png");

  // The quantisation gap: validation accuracy unquantised and snapped, over the epochs.
  std::vector<double> gap_epochs, unquantised, snapped;
  for (const auto& e : epochs)
    if (e.contains("validation_accuracy") && e.contains("snapped_validation_accuracy")) {
      gap_epochs.push_back(e.at("epoch").get<double>());
      unquantised.push_back(100 * e.at("validation_accuracy").get<double>());
      snapped.push_back(100 * e.at("snapped_validation_accuracy").get<double>());
    }
  if (!gap_epochs.empty()) {
    plot::LineChartOptions g;
    g.title = model + ": validation accuracy while retraining, and after snapping to the means";
    g.x_label = "epoch", g.y_label = "validation accuracy (%)";
    plot::write_png(plot::line_chart({{"unquantised", gap_epochs, unquantised, plot::colors::blue, 2.2},
                                      {"snapped (as post-processing will)", gap_epochs, snapped, plot::colors::vermillion, 2.2}},
                                     g).canvas,
                    figures + "/gap.png");
  }

  plot::ScatterOptions s;
  s.title = model + ": pretrained against retrained weights";
  s.x_min = s.y_min = -limit, s.x_max = s.y_max = limit;
  plot::write_png(plot::scatter_chart(w_pre, w_ret, snapshots.back(), s).canvas, figures + "/scatter.png");

  // The film: one frame per epoch from the stored histograms.
  plot::GifEncoder gif(plot::HistogramOptions{}.width, plot::HistogramOptions{}.height);
  for (size_t e = 0; e < epochs.size(); ++e) {
    if (!epochs[e].contains("weight_histogram")) continue;
    const plot::Histogram h = histogram_from_json(epochs[e]["weight_histogram"]);
    const plot::HistogramOptions o =
        frame_options(h.hi, h.total, frame_title(model, int64_t(e + 1), int64_t(epochs.size())), trajectory.at(e + 1));
    const plot::Canvas frame = plot::histogram_chart(h, o).canvas;
    if (frames) {
      std::filesystem::create_directories(figures + "/frames");
      plot::write_png(frame, frame_path(run_dir, int64_t(e + 1)));
    }
    gif.add_frame(frame, e + 1 == epochs.size() ? 4 * kGifDelay : kGifDelay);
  }
  if (gif.frame_count() > 0) gif.write(figures + "/retraining.gif");
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace sws
