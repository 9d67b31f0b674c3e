// The `sws` command: one subcommand per stage of the pipeline, and `run` for all of them. Each
// stage subcommand is a front end over the library (compress/pipeline.h): flags set the fields
// of the stage's settings, which start from the model's preset (compress/presets.h).
//   sws run --model lenet5 --out runs/lenet5
//   sws run --model mlp:784-128-64-10 --out runs/mlp
//   sws pretrain --model lenet5 --out runs/lenet5-pre
//   sws retrain --model lenet5 --weights runs/lenet5-pre/model.safetensors --out runs/lenet5-sws
//   sws quantize --model lenet5 --weights runs/lenet5-sws/retrained.safetensors
//                --prior runs/lenet5-sws/prior.safetensors --out runs/lenet5-sws
//   sws eval --weights runs/lenet5/quantized.safetensors
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#ifdef SWS_WITH_MPI
#include "core/mpi_communicator.h"
#ifdef SWS_WITH_NCCL
#include "cuda/nccl_communicator.h"
#endif
#endif

#include "compress/presets.h"
#include "core/blas_kernels.h"
#include "core/error.h"
#include "core/cpu_quota.h"
#include "core/threads.h"
#include "nn/dataset.h"
#include "nn/models.h"
#include "tools/figures.h"
#include "tools/model_file.h"
#include "tools/pipeline.h"
#include "tools/sweep_figure.h"

namespace {

int run_eval(const std::string& model_flag, const std::string& weights, const std::string& data_dir, int threads,
             int64_t test_limit, const std::string& device) {
  sws::set_num_threads(sws::choose_thread_count(threads).count);
  std::string model_name;
  auto model = sws::load_model_file(weights, model_flag, &model_name);  // a checkpoint or a .sws file
  model->to(sws::parse_device(device));
  const sws::Mnist mnist = sws::load_mnist(data_dir);
  const sws::Dataset test = sws::make_dataset(mnist.test, test_limit);
  const double accuracy = sws::evaluate_accuracy(*model, test);
  std::printf("%s (%s): test accuracy %.2f%% on %lld images (error %.2f%%)\n", weights.c_str(), model_name.c_str(),
              100.0 * accuracy, static_cast<long long>(test.size()), 100.0 * (1.0 - accuracy));
  return 0;
}

// The model named on the command line, read before the flags are declared so that every flag
// starts from that model's preset (and --help shows it); CLI11 then checks the name itself.
std::string model_on_command_line(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--model") == 0 && i + 1 < argc) return argv[i + 1];
    if (std::strncmp(argv[i], "--model=", 8) == 0) return argv[i] + 8;
  }
  return "lenet5";
}

// `sws sweep ARGS`: replaces this process with the Optuna driver, tools/sweep.py ARGS, run by
// Debian's /usr/bin/python3 (which sees python3-optuna); SWS_BINARY tells it this binary.
int exec_sweep(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path self = fs::canonical("/proc/self/exe", ec);
  const fs::path installed = self.parent_path().parent_path() / "share" / "sws" / "sweep.py";
  const std::string script = !ec && fs::exists(installed, ec) ? installed.string() : std::string(SWS_SWEEP_SCRIPT);
  if (!ec) setenv("SWS_BINARY", self.c_str(), 1);
  std::vector<char*> args{const_cast<char*>("python3"), const_cast<char*>(script.c_str())};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execv("/usr/bin/python3", args.data());
  std::fprintf(stderr, "sws: error: sws sweep runs %s with /usr/bin/python3, which could not start (%s); "
               "scripts/install-deps.sh installs it with Debian's python3-optuna\n", script.c_str(), std::strerror(errno));
  return 1;
}

// lenet300, lenet5, tutorial or mlp:SIZES.
const CLI::Validator kModelName([](std::string& name) { return sws::model_name_problem(name); }, "MODEL", "model");
constexpr const char* kModelHelp = "lenet300, lenet5, tutorial, or a dense ReLU net by its layer sizes (mlp:784-128-64-10)";

// The options every stage command shares.
void add_common_flags(CLI::App* app, sws::CommandOptions& o, bool training) {
  app->add_option("--model", o.model, kModelHelp)->check(kModelName)->capture_default_str();
  app->add_option("--seed", o.seed, "seed of initialisation and data order")->capture_default_str();
  app->add_option("--threads", o.threads,
                  "CPU threads (default: OMP_NUM_THREADS, else the CPUs this process may use: affinity mask and cgroup quota)");
  app->add_option("--device", o.device, "cpu, or cuda (= cuda:0; needs a CUDA build and a visible GPU)")->capture_default_str();
  app->add_option("--data", o.data_dir, "folder with the four MNIST IDX files (.gz or raw)")->capture_default_str();
  app->add_option("--train-limit", o.train_limit, "use only the first N training images (the validation split is taken from them)");
  app->add_option("--test-limit", o.test_limit, "evaluate on only the first N test images");
  app->add_flag("--no-test{false}", o.test, "never read the test set (a search's trials, an ablation: every choice is made "
                "on validation)");
  if (training) app->add_flag("--resume", o.resume, "continue from OUT/checkpoints/ (written after every epoch; same flags)");
  if (training)
    app->add_option("--comm-timeout", o.comm_timeout, "under mpirun: seconds a rank waits for the slowest before "
                    "giving up, naming the ranks that stopped answering")->capture_default_str();
}

// The validation split, shared by every stage command (sws run keeps it in the settings).
void add_validation_flag(CLI::App* app, double& fraction) {
  app->add_option("--validation-fraction", fraction, "the last part of the training images held out for every "
                  "decision (per-epoch accuracy, the retraining rule, the failure check)")->capture_default_str();
}

void add_pretrain_flags(CLI::App* app, sws::PretrainSettings& p, const std::string& prefix) {
  app->add_option("--" + prefix + "epochs", p.epochs, "pretraining epochs")->capture_default_str();
  app->add_option("--" + prefix + "batch", p.batch, "pretraining images per step")->capture_default_str();
  app->add_option("--" + prefix + "lr", p.lr, "pretraining Adam rate")->capture_default_str();
  app->add_option("--" + prefix + "schedule", p.schedule, "pretraining learning-rate schedule: cosine or constant")
      ->check(CLI::IsMember({"cosine", "constant"}))->capture_default_str();
}

void add_retrain_flags(CLI::App* app, sws::RetrainSettings& r, const std::string& epochs_flag) {
  sws::PriorOptions& p = r.prior;
  app->add_option(epochs_flag, r.epochs, "retraining epochs")->capture_default_str();
  app->add_option("--batch,--retrain-batch", r.batch, "retraining images per step")->capture_default_str();
  app->add_option("--tau", r.tau, "weight of the complexity term, (tau / N) C with N the training images")->capture_default_str();
  app->add_option("--tau-warmup", r.tau_warmup_epochs, "epochs over which tau rises linearly")->capture_default_str();
  app->add_option("--components", p.components, "mixture components J, zero included")->capture_default_str();
  app->add_option("--pi0", p.pi_zero, "mixing proportion of the zero component")->capture_default_str();
  app->add_flag("--learn-pi0,!--fixed-pi0", p.learn_pi_zero,
                "learn pi_0 (from --pi0) under a Beta hyper-prior, or keep it fixed (default: the preset's)");
  app->add_option("--pi0-concentration", p.pi_zero_concentration,
                  "kappa of that Beta(1 + kappa pi0, 1 + kappa (1 - pi0)) hyper-prior")->capture_default_str();
  app->add_option("--pi0-concentration-per-weight", p.pi_zero_concentration_per_weight,
                  "> 0: kappa = this x the number of weights instead (the hyper-prior scales with the net)")
      ->capture_default_str();
  app->add_option("--init", p.init, "initial means over the pretrained weights' range (range) or over +-init-range (fixed)")
      ->capture_default_str();
  app->add_option("--init-range", p.init_range, "half-width of the fixed initial means")->capture_default_str();
  app->add_option("--init-sigma", p.init_sigma, "every component's initial standard deviation")->capture_default_str();
  app->add_option("--alpha-zero", p.alpha_zero, "Gamma hyper-prior on the zero component's precision: shape")->capture_default_str();
  app->add_option("--beta-zero", p.beta_zero, "Gamma hyper-prior on the zero component's precision: rate")->capture_default_str();
  app->add_option("--alpha", p.alpha, "Gamma hyper-prior on the other precisions: shape")->capture_default_str();
  app->add_option("--beta", p.beta, "Gamma hyper-prior on the other precisions: rate")->capture_default_str();
  app->add_option("--lr-weights", r.lr_weights, "Adam rate of the weights")->capture_default_str();
  app->add_option("--lr-means", r.lr_means, "Adam rate of the means")->capture_default_str();
  app->add_option("--lr-log-precisions", r.lr_log_precisions, "Adam rate of the log-precisions")->capture_default_str();
  app->add_option("--lr-mixing", r.lr_mixing, "Adam rate of the mixing logits")->capture_default_str();
  app->add_option("--retrain-rule", r.rule, "adaptive: go on past the retraining epochs while the quantisation gap is "
                  "open, tau rising; fixed: exactly the retraining epochs")->check(CLI::IsMember({"adaptive", "fixed"}))
      ->capture_default_str();
  app->add_option("--gap-tolerance", r.gap_tolerance, "adaptive: done when the snapped validation accuracy is within "
                  "this of the unquantised one (0.005 = half a point)")->capture_default_str();
  app->add_option("--tau-growth", r.tau_growth, "adaptive: tau's factor after each extra epoch with the gap open")
      ->capture_default_str();
  app->add_option("--sigma-anneal", r.sigma_anneal, "adaptive: after each extra epoch with the gap open, cap every "
                  "component's sigma at this fraction of the widest one's (1: off)")->capture_default_str();
  app->add_option("--pi0-relax", r.pi0_relax, "adaptive: after each extra epoch with the gap open, multiply 1 - pi0 "
                  "by this (1: off), down to --pi0-floor")->capture_default_str();
  app->add_option("--pi0-floor", r.pi0_floor, "adaptive: the relaxed pi0 never goes below this")->capture_default_str();
  app->add_option("--max-retrain-loss", r.max_accuracy_loss, "adaptive: stop extending when the unquantised "
                  "validation accuracy falls this far below its value after the retraining epochs")->capture_default_str();
  app->add_option("--snapped-patience", r.snapped_patience, "adaptive: ... and the snapped validation accuracy "
                  "has not beaten its best for this many extra epochs")->capture_default_str();
  app->add_option("--max-retrain-epochs", r.max_epochs, "adaptive: the epoch cap (0: twice the retraining epochs)")
      ->capture_default_str();
}

void add_snap_flags(CLI::App* app, sws::SnapSettings& q, std::string& rule) {
  app->add_option("--merge-kl", q.merge_kl, "merge components whose KL divergence (nats) is below this")->capture_default_str();
  app->add_option("--merge-widths", q.merge_widths, "merge components whose means lie within this many of the "
                  "narrower one's sigmas (0: off)")->capture_default_str();
  app->add_option("--assign", rule, "map (with mixing proportions) or ml")->check(CLI::IsMember({"map", "ml"}))->capture_default_str();
}

void add_postprocess_flags(CLI::App* app, sws::PipelineSettings& s, std::string& rule) {
  sws::PostprocessSettings& q = s.postprocess;
  add_snap_flags(app, q.snap, rule);
  app->add_option("--prune-budget", q.prune_budget, "after assignment, zero (tensor, value) groups, smallest first, "
                  "while the validation accuracy stays within this (0.002 = 0.2 points; unset: off)");
  app->add_flag("--remove-dead-units,!--keep-dead-units", q.remove_dead_units,
                "then zero units nobody reads and the weights that read units whose constant output is 0 (exact; "
                "compress/dead_units.h), or keep them (default: the preset's)");
  app->add_option("--merge-budget", q.merge_budget, "then merge neighbouring shared values of one sign (not mixture "
                  "components) into their weights' mean while the validation accuracy stays within this (unset: off)");
  // Off spelled out, so that a caller can switch off what a preset might switch on.
  CLI::Option* no_prune = app->add_flag_callback("--no-prune-budget", [&q] { q.prune_budget.reset(); },
                                                 "no pruning by validation");
  CLI::Option* no_merge = app->add_flag_callback("--no-merge-budget", [&q] { q.merge_budget.reset(); },
                                                 "no merging by validation");
  no_prune->excludes(app->get_option("--prune-budget"));
  no_merge->excludes(app->get_option("--merge-budget"));
  app->add_option("--finetune-epochs", q.finetune.epochs,
                  "then fine-tune the shared values for N epochs, assignments fixed (0: off)")->capture_default_str();
  app->add_option("--finetune-batch", q.finetune.batch, "images per step of that fine-tuning")->capture_default_str();
  app->add_option("--finetune-lr", q.finetune.lr, "Adam rate of that fine-tuning")->capture_default_str();
  app->add_option("--max-drop", s.max_accuracy_drop, "fail (exit 3) when post-processing loses more validation accuracy "
                  "than this (0.02 = 2 points)")->capture_default_str();
}

sws::Assignment assignment(const std::string& rule) {
  return rule == "ml" ? sws::Assignment::MaximumLikelihood : sws::Assignment::MaximumAPosteriori;
}

// The exit code of a run whose post-processing lost more validation accuracy than --max-drop
// allows (its files are written, marked FAILED): distinct from 1 (an error) so that a search can
// score the trial.
constexpr int kExitQuantizationFailed = 3;

constexpr const char* kPresets =
    "Presets (the values before any flag): compress/presets.h; `sws run --model M --help` shows M's.";

// A preset's tau warm-up is a share of its planned epochs (LeNet-300-100: 10 of 40): when the
// command line changes the epochs and not the warm-up, the warm-up keeps its share.
void keep_warmup_share(const CLI::App* command, const std::string& epochs_flag, sws::RetrainSettings& r,
                       const sws::RetrainSettings& preset) {
  if (command->count(epochs_flag) == 0 || command->count("--tau-warmup") > 0 || preset.tau_warmup_epochs == 0 ||
      preset.epochs <= 0)
    return;
  r.tau_warmup_epochs = preset.tau_warmup_epochs * r.epochs / preset.epochs;
}

#ifdef SWS_WITH_MPI
// A rank's default thread count: its share of the machine's CPUs, and no more than the CPUs it
// is bound to (Open MPI binds each rank to a core for 2 ranks or fewer, to a socket above, where
// several ranks share the socket's CPUs).
int threads_per_rank(int local_ranks) {
  const int available = sws::available_cpus();
  const int machine = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return std::max(1, std::min(available, machine / std::max(1, local_ranks)));
}

#ifdef SWS_WITH_NCCL
// The GPU list a rank keeps: entry local_rank of the launcher's CUDA_VISIBLE_DEVICES when it
// holds several (wrapping round), that single entry when it holds one, else the local rank.
std::string rank_gpu(const char* visible, int local_rank) {
  if (!visible || !*visible) return std::to_string(local_rank);
  std::vector<std::string> gpus;
  std::string item;
  for (const char* c = visible;; ++c) {
    if (*c == ',' || *c == 0) {
      if (!item.empty()) gpus.push_back(item);
      item.clear();
      if (*c == 0) break;
    } else {
      item += *c;
    }
  }
  if (gpus.empty()) return std::to_string(local_rank);
  return gpus[static_cast<size_t>(local_rank) % gpus.size()];
}
#endif
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "sweep") == 0) return exec_sweep(argc, argv);
  sws::ensure_fast_blas_kernels(argv);  // may re-execute the process: before MPI starts
#ifdef SWS_WITH_MPI
  // Under mpirun (or another MPI launcher) the process is one rank of a data-parallel run.
  std::unique_ptr<sws::MpiSession> mpi;
  std::unique_ptr<sws::MpiCommunicator> world;
#ifdef SWS_WITH_NCCL
  std::unique_ptr<sws::cuda::NcclCommunicator> nccl;  // GPU ranks: gradients summed on the devices
#endif
  if (sws::launched_by_mpi_launcher()) mpi = std::make_unique<sws::MpiSession>(&argc, &argv);
#endif
  CLI::App app{"sws: compress neural networks by soft weight-sharing (Ullrich, Meeds & Welling, 2017)"};
  app.require_subcommand(1);
  const std::string named_model = model_on_command_line(argc, argv);
  // Every flag starts from the named model's preset; an unknown name is refused by CLI11 below.
  sws::PipelineSettings settings =
      sws::preset_settings(sws::model_name_problem(named_model).empty() ? named_model : "lenet5");
  const sws::RetrainSettings preset_retrain = settings.retrain;
  sws::CommandOptions options;

  CLI::App* pretrain = app.add_subcommand("pretrain", "Stage 1: train a network on MNIST with cross-entropy and Adam");
  add_common_flags(pretrain, options, true);
  add_pretrain_flags(pretrain, settings.pretrain, "");
  add_validation_flag(pretrain, options.validation_fraction);
  pretrain->add_option("--out", options.out_dir, "output folder: model.safetensors, metrics.json")->required();
  pretrain->footer(std::string("Example:\n  sws pretrain --model lenet5 --epochs 12 --out runs/lenet5\n") + kPresets);

  std::string eval_model, eval_weights, eval_data = "data/mnist";
  int eval_threads = 0;
  std::string eval_device = "cpu";
  int64_t eval_limit = 0;
  CLI::App* eval = app.add_subcommand("eval", "Print the MNIST test accuracy of a checkpoint");
  eval->add_option("--model", eval_model, "lenet300, lenet5, tutorial or mlp:SIZES (default: recognised from the file)")
      ->check(kModelName);
  eval->add_option("FILE,--weights", eval_weights, "a .safetensors checkpoint or a .sws file written by sws")->required();
  eval->add_option("--data", eval_data, "folder with the four MNIST IDX files")->capture_default_str();
  eval->add_option("--threads", eval_threads, "CPU threads (default: OMP_NUM_THREADS, else the CPUs available)");
  eval->add_option("--device", eval_device, "cpu, or cuda (= cuda:0)")->capture_default_str();
  eval->add_option("--test-limit", eval_limit, "evaluate on only the first N test images");
  eval->footer("Example:\n  sws eval --model lenet5 --weights runs/lenet5/model.safetensors");

  std::string weights, rule = "map";
  CLI::App* retrain = app.add_subcommand("retrain", "Stage 2: retrain a checkpoint under the Gaussian-mixture prior");
  add_common_flags(retrain, options, true);
  retrain->add_option("--weights", weights, "the pretrained checkpoint")->required();
  add_retrain_flags(retrain, settings.retrain, "--epochs");
  add_snap_flags(retrain, settings.postprocess.snap, rule);
  add_validation_flag(retrain, options.validation_fraction);
  retrain->add_option("--out", options.out_dir, "output folder: retrained.safetensors, prior.safetensors, metrics.json")->required();
  retrain->footer(std::string("Example:\n  sws retrain --model lenet5 --weights runs/lenet5/model.safetensors --out runs/lenet5-sws\n") + kPresets);

  std::string prior_path;
  CLI::App* quantize = app.add_subcommand("quantize", "Stage 3: merge components, snap weights to the means, account");
  add_common_flags(quantize, options, false);
  quantize->add_option("--weights", weights, "the retrained checkpoint")->required();
  quantize->add_option("--prior", prior_path, "the prior learned with it (prior.safetensors)")->required();
  add_postprocess_flags(quantize, settings, rule);
  add_validation_flag(quantize, options.validation_fraction);
  quantize->add_option("--out", options.out_dir, "output folder: quantized.safetensors, metrics.json")->required();
  quantize->footer("Example:\n  sws quantize --model lenet5 --weights runs/lenet5-sws/retrained.safetensors "
                   "--prior runs/lenet5-sws/prior.safetensors --out runs/lenet5-sws");

  std::string from_pretrained;
  bool no_figures = false;
  CLI::App* run = app.add_subcommand("run", "All three stages: pretrain, retrain under the prior, post-process");
  add_common_flags(run, options, true);
  run->add_option("--out", options.out_dir, "output folder")->required();
  run->add_option("--from-pretrained", from_pretrained, "start from this checkpoint (skips stage 1)");
  run->add_flag("--no-figures", no_figures, "do not draw OUT/figures/ (histograms, trajectories, scatter, film)");
  run->add_option("--frame-every", options.frame_every, "draw the film's frame every k epochs")->capture_default_str();
  add_pretrain_flags(run, settings.pretrain, "pretrain-");
  add_retrain_flags(run, settings.retrain, "--retrain-epochs");
  add_postprocess_flags(run, settings, rule);
  add_validation_flag(run, settings.validation_fraction);
  run->footer(std::string("Example:\n  sws run --model lenet5 --out runs/lenet5\n  sws run --model mlp:784-128-64-10 --out runs/mlp\n"
                          "  sws run --model tutorial --from-pretrained runs/tutorial/pretrained.safetensors "
                          "--retrain-epochs 10 --out runs/tutorial-short\n") + kPresets);

  std::string compress_in, compress_out;
  CLI::App* compress = app.add_subcommand("compress", "Write a quantised model as a .sws file (docs/FORMAT.md)");
  compress->add_option("INPUT", compress_in, "a run folder (its quantized.safetensors) or a quantised checkpoint")->required();
  compress->add_option("-o,--output", compress_out, "the .sws file to write")->required();
  compress->footer("Example:\n  sws compress runs/lenet5 -o lenet5.sws");
  std::string decompress_in, decompress_out;
  CLI::App* decompress = app.add_subcommand("decompress", "Expand a .sws file into a dense safetensors checkpoint");
  decompress->add_option("INPUT", decompress_in, "the .sws file")->required();
  decompress->add_option("-o,--output", decompress_out, "the .safetensors file to write")->required();
  decompress->footer("Example:\n  sws decompress lenet5.sws -o lenet5-dense.safetensors");
  std::string inspect_in;
  bool inspect_json = false;
  CLI::App* inspect = app.add_subcommand("inspect", "Show what each tensor of a .sws file costs");
  inspect->add_option("FILE", inspect_in, "the .sws file")->required();
  inspect->add_flag("--json", inspect_json, "print JSON instead of a table");
  inspect->footer("Example:\n  sws inspect lenet5.sws --json");

  app.add_subcommand("sweep", "Search hyper-parameters with Optuna over `sws run` trials (sws sweep --help)")
      ->allow_extras();
  std::string plot_dir;
  bool plot_no_frames = false;
  CLI::App* plot = app.add_subcommand("plot", "Redraw the figures of a finished run, or draw a search's Pareto figure");
  plot->add_option("RUN_DIR", plot_dir, "the folder of a finished `sws run` (figures/), or of `sws sweep` (pareto.png)")
      ->required();
  plot->add_flag("--no-frames", plot_no_frames, "skip figures/frames/*.png (the GIF is still drawn)");
  plot->footer("Example:\n  sws plot runs/lenet5   (writes runs/lenet5/figures/)\n"
               "  sws plot sweeps/lenet5   (writes sweeps/lenet5/pareto.png from its trials.json)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
#ifdef SWS_WITH_MPI
    if (mpi) {
      world = std::make_unique<sws::MpiCommunicator>(options.comm_timeout);
      if (world->size() > 1) {
        // Training is data-parallel; any other command is rank 0's alone.
        const bool training = *pretrain || *retrain || *run;
        if (!training && world->rank() != 0) return 0;
        if (training) options.comm = world.get();
        if (training && options.device.rfind("cuda", 0) == 0) {
#ifdef SWS_WITH_NCCL
          // One GPU per rank: the local rank's (of the launcher's list when it gave this rank
          // several, as srun may); the backend then uses the one GPU it sees.
          SWS_CHECK(options.device == "cuda" || options.device == "cuda:0",
                    "under mpirun each rank takes the GPU of its local rank: pass --device cuda, not " + options.device);
          setenv("CUDA_VISIBLE_DEVICES", rank_gpu(std::getenv("CUDA_VISIBLE_DEVICES"), world->local_rank()).c_str(), 1);
          nccl = std::make_unique<sws::cuda::NcclCommunicator>(world.get());
          options.comm = nccl.get();
#else
          throw sws::Error("--device cuda under mpirun needs a build with the CUDA backend and NCCL");
#endif
        }
      }
      if (options.comm) {
        if (options.threads == 0 && !std::getenv("OMP_NUM_THREADS")) options.threads = threads_per_rank(world->local_size());
        if (world->rank() == 0)
          std::printf("data-parallel over %s, %d thread(s) per rank\n", world->describe().c_str(),
                      options.threads > 0 ? options.threads : sws::choose_thread_count(0).count);
      }
    }
#endif
    sws::set_seed(settings, options.seed);
    keep_warmup_share(retrain, "--epochs", settings.retrain, preset_retrain);
    keep_warmup_share(run, "--retrain-epochs", settings.retrain, preset_retrain);
    settings.postprocess.snap.rule = assignment(rule);
    if (*pretrain) return sws::run_pretrain_command(options, settings.pretrain), 0;
    if (*compress) return sws::compress_command(compress_in, compress_out) > 0 ? 0 : 1;
    if (*decompress) return sws::decompress_command(decompress_in, decompress_out), 0;
    if (*inspect) return sws::inspect_command(inspect_in, inspect_json), 0;
    if (*plot && std::filesystem::exists(plot_dir + "/trials.json")) {  // a search's folder
      const int trials = sws::draw_sweep_figure(plot_dir);
      std::printf("wrote %s/pareto.png (%d trials)\n", plot_dir.c_str(), trials);
      return 0;
    }
    if (*plot) {
      const double seconds = sws::draw_run_figures(plot_dir, !plot_no_frames);
      std::printf("wrote %s/figures/ in %.1f s\n", plot_dir.c_str(), seconds);
      return 0;
    }
    if (*eval) return run_eval(eval_model, eval_weights, eval_data, eval_threads, eval_limit, eval_device);
    if (*retrain) return sws::run_retrain_command(options, settings.retrain, settings.postprocess.snap, weights), 0;
    if (*quantize)
      return sws::run_quantize_command(options, settings.postprocess, settings.max_accuracy_drop, weights, prior_path), 0;
    if (*run) {
      SWS_CHECK(options.frame_every >= 1, "--frame-every must be at least 1");
      options.figures = !no_figures;
      sws::run_pipeline_command(options, settings, from_pretrained);
      return 0;
    }
  } catch (const sws::QuantizationFailure& e) {
    std::fprintf(stderr, "sws: FAILED: %s\n", e.what());
    return kExitQuantizationFailed;
  } catch (const sws::CollectiveError& e) {  // every rank stops with this message
    std::fprintf(stderr, "sws: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sws: error: %s\n", e.what());
#ifdef SWS_WITH_MPI
    // Only this rank knows: the others would wait for it in their next collective.
    if (options.comm) std::fflush(stderr), sws::abort_every_rank(1);
#endif
    return 1;
  }
  return 0;
}
