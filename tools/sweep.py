#!/usr/bin/python3
"""`sws sweep`: a multi-objective search over `sws run` trials on Optuna (issue 16).

Each trial retrains one shared pretrained checkpoint under hyper-parameters the sampler picks
(the paper's axes: tau, J, pi_0 and its Beta prior, the four learning rates, the Gamma
hyper-priors of the zero component and of the others; plus epochs, the retraining rule and
codebook fine-tuning), post-processes it and writes model.sws, with the test set switched off.
The study minimises two objectives, both read from the trial's metrics.json: the quantised
model's validation error and the bytes of its .sws file. A quantisation failure (exit 3) is
scored like any other trial: its error is what it is.

Early stopping (Optuna's pruners serve single-objective studies only): a rule of our own. A trial
is stopped, and marked PRUNED, as soon as a retraining epoch's unquantised validation error
exceeds --max-error: the quantised model is never more accurate than the model it came from, so
such a trial cannot reach the part of the front the search is for.

Storage (--storage): a database URL (default sqlite:///OUT/study.db; any SQLAlchemy URL such as
postgresql://user@host/db serves workers on several machines), or journal:PATH for Optuna's
journal file (JournalFileStorage, on a disk that every worker mounts). Several workers may run
on one storage at once: each asks the storage for the next trial number.

Crashes: a worker writes OUT/trials/NNNN/worker.json (host, pid, time) every --heartbeat
seconds while its trial runs. A trial still RUNNING in the storage whose heartbeat is older than
--stale-seconds has lost its worker (the journal storage has no heartbeat of its own): the next
worker to see it claims it (an atomic rename of worker.json, so that only one does) and continues
it under the same number with `sws run --resume` from the trial's per-epoch checkpoint.

After every trial OUT/trials.json and OUT/trials.csv hold every trial of the study (number,
state, objectives, parameters, the trial's own figures) for `sws plot` and for the repository.
"""
import argparse
import csv
import fcntl
import json
import os
import re
import resource
import socket
import subprocess
import sys
import threading
import time
import warnings

import optuna
from optuna.trial import TrialState

# Only for tests/sweep_test.sh: the worker and its trial die by SIGKILL at this retraining epoch.
CRASH_AT_EPOCH = int(os.environ.get("SWS_SWEEP_CRASH_AT_EPOCH", "0"))
EPOCH_LINE = re.compile(r"^retraining epoch (\d+)/\d+  .*?(?<!snapped )validation accuracy ([0-9.]+)%")


def suggest_flags(trial, max_epochs, min_epochs=10):
    """The search space, as `sws run` flags. Works on a FixedTrial too (a resumed trial's params).
    Ranges: about a decade around the paper's and the tutorial's values (a first study with wider
    ones spent most of its random start on models that lost everything)."""
    flags = {
        "--tau": trial.suggest_float("tau", 2e-3, 5e-2, log=True),
        "--components": trial.suggest_int("components", 8, 24),
        "--lr-weights": trial.suggest_float("lr_weights", 2e-4, 2e-3, log=True),
        "--lr-means": trial.suggest_float("lr_means", 3e-5, 3e-4, log=True),
        "--lr-log-precisions": trial.suggest_float("lr_log_precisions", 1e-3, 1e-2, log=True),
        "--lr-mixing": trial.suggest_float("lr_mixing", 1e-3, 1e-2, log=True),
        "--alpha-zero": trial.suggest_float("alpha_zero", 1e3, 3e4, log=True),
        "--beta-zero": trial.suggest_float("beta_zero", 0.5, 10.0, log=True),
        "--alpha": trial.suggest_float("alpha", 50.0, 2e3, log=True),
        "--beta": trial.suggest_float("beta", 0.02, 1.0, log=True),
        "--retrain-epochs": trial.suggest_int("retrain_epochs", min(min_epochs, max_epochs), max_epochs,
                                              step=max(1, min(10, max_epochs))),
        "--retrain-rule": trial.suggest_categorical("retrain_rule", ["adaptive", "fixed"]),
        # tau's schedules: the adaptive rule's growth (the warm-up below).
        "--tau-growth": trial.suggest_float("tau_growth", 1.0, 1.5),
        "--finetune-epochs": trial.suggest_int("finetune_epochs", 0, 2),
    }
    # tau rising linearly over the first part of the planned epochs.
    flags["--tau-warmup"] = int(trial.suggest_categorical("tau_warmup_fraction", [0.0, 0.25, 0.5]) *
                                flags["--retrain-epochs"])
    # pi_0 through the zero component's share 1 - pi_0, on a log scale (0.97 .. 0.9997).
    flags["--pi0"] = 1.0 - trial.suggest_float("zero_share", 3e-4, 3e-2, log=True)
    # Both ways spelled out, so that a preset's own choice never leaks into a trial.
    if trial.suggest_categorical("learn_pi0", [False, True]):
        flags["--learn-pi0"] = None
        # Its Beta hyper-prior's strength scales with the number of weights (kappa = c x weights).
        flags["--pi0-concentration-per-weight"] = trial.suggest_float("pi0_concentration_per_weight", 0.1, 100.0,
                                                                      log=True)
    else:
        flags["--fixed-pi0"] = None
    # compress/dead_units.h
    flags["--remove-dead-units" if trial.suggest_categorical("remove_dead_units", [False, True])
          else "--keep-dead-units"] = None
    if trial.suggest_categorical("prune_by_validation", [False, True]):  # compress/validation_pruning.h
        flags["--prune-budget"] = trial.suggest_float("prune_budget", 5e-4, 1e-2, log=True)
    out = []
    for flag, value in flags.items():
        out += [flag] if value is None else [flag, repr(value) if isinstance(value, float) else str(value)]
    return out


def spelled_both_ways(flags):
    """A trial's flags with every on/off setting given either way: trials from before the "off"
    spellings existed stored only the "on" ones, and the model's preset must not fill the gap."""
    flags = list(flags)
    for on, off in (("--learn-pi0", "--fixed-pi0"), ("--remove-dead-units", "--keep-dead-units")):
        if on not in flags and off not in flags:
            flags.append(off)
    return flags


def preset_params(model, max_epochs):
    """The model's preset (compress/presets.cpp) as a point of the space, the study's first trial,
    so that the front starts from what sws does without a search; None for other models."""
    common = {"components": 17, "lr_weights": 5e-4, "lr_means": 1e-4, "lr_log_precisions": 3e-3, "lr_mixing": 3e-3,
              "alpha_zero": 5000.0, "beta_zero": 2.0, "alpha": 250.0, "beta": 0.1, "retrain_rule": "adaptive",
              "zero_share": 1e-3, "learn_pi0": False, "tau_warmup_fraction": 0.0, "tau_growth": 1.25,
              "remove_dead_units": False, "prune_by_validation": False}
    presets = {
        "lenet5": {**common, "tau": 0.015, "retrain_epochs": 30, "finetune_epochs": 1},
        # The point issue 16's LeNet-300-100 study chose (its trial 83).
        "lenet300": {**common, "tau": 0.03539329826149567, "retrain_epochs": 40, "finetune_epochs": 0,
                     "lr_weights": 0.0014060143528970587, "lr_means": 8.522835394950617e-05,
                     "lr_log_precisions": 0.0012684688821661342, "lr_mixing": 0.0038915137095189376,
                     "alpha_zero": 4108.358971759304, "beta_zero": 2.5310644818483894, "alpha": 265.60953085065603,
                     "beta": 0.24820755689712168, "zero_share": 0.0007413098377814997, "learn_pi0": True,
                     "pi0_concentration_per_weight": 47.27544317606819, "tau_warmup_fraction": 0.25,
                     "tau_growth": 1.1340740435473555,
                     "remove_dead_units": True},
    }
    if model not in presets:
        return None
    step = max(1, min(10, max_epochs))
    return {**presets[model], "retrain_epochs": min(max_epochs, presets[model]["retrain_epochs"]) // step * step}


def write_json_atomically(path, value):
    tmp = f"{path}.tmp-{socket.gethostname()}-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=1)
    os.replace(tmp, path)


def write_heartbeat(folder):
    write_json_atomically(os.path.join(folder, "worker.json"),
                          {"host": socket.gethostname(), "pid": os.getpid(), "time": time.time()})


class Heartbeat:
    """Rewrites FOLDER/worker.json every `every` seconds while a trial runs. If another worker
    has taken the trial over meanwhile (this one was paused past --stale-seconds), it stops the
    trial's process instead, so that two never write one folder."""

    def __init__(self, folder, every):
        self.folder, self.every, self.stop = folder, every, threading.Event()
        self.proc, self.lost = None, False
        write_heartbeat(folder)
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def ours(self):
        try:
            with open(os.path.join(self.folder, "worker.json")) as f:
                w = json.load(f)
            return w["host"] == socket.gethostname() and w["pid"] == os.getpid()
        except (OSError, ValueError, KeyError):
            return False

    def loop(self):
        while not self.stop.wait(self.every):
            if not self.ours():
                self.lost = True
                if self.proc is not None:
                    self.proc.terminate()
                return
            write_heartbeat(self.folder)

    def close(self):
        self.stop.set()
        self.thread.join()


class Sweep:
    def __init__(self, args):
        self.args = args
        self.out = os.path.abspath(args.out)
        os.makedirs(os.path.join(self.out, "trials"), exist_ok=True)
        storage = args.storage or f"sqlite:///{os.path.join(self.out, 'study.db')}"
        if storage.startswith("journal:"):
            storage = optuna.storages.JournalStorage(optuna.storages.JournalFileStorage(storage[len("journal:"):]))
        # A constraint steers the sampler away from trials whose quantised model lost everything
        # (a tiny file at 50% error is on the front, and useless): feasible when the validation
        # error is within --max-error.
        sampler = optuna.samplers.TPESampler(seed=args.seed, n_startup_trials=args.startup_trials,
                                             constraints_func=lambda t: t.user_attrs.get("constraint", [0.0]))
        # Workers started together would race to create the tables and the study: one at a time.
        name = args.study or f"sws-{args.model}"
        with open(os.path.join(self.out, "study.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # One study per folder: its trials/NNNN are that study's trial numbers.
            owner = os.path.join(self.out, "study.json")
            if os.path.exists(owner):
                with open(owner) as f:
                    held = json.load(f)["study"]
                if held != name:
                    sys.exit(f"sws sweep: {self.out} holds study '{held}', not '{name}': give another --out")
            else:
                write_json_atomically(owner, {"study": name, "model": args.model})
            self.study = optuna.create_study(study_name=name, storage=storage,
                                             directions=["minimize", "minimize"], sampler=sampler,
                                             load_if_exists=True)
            preset = preset_params(args.model, args.max_retrain_epochs)
            if preset is not None and not self.study.get_trials(deepcopy=False):
                self.study.enqueue_trial(preset)
        self.pretrained = os.path.join(self.out, "pretrained", "model.safetensors")

    def base(self):
        """The arguments every run of this worker shares (a trial keeps its own: run.json)."""
        return {"data": self.args.data, "threads": self.args.threads, "run_seed": self.args.run_seed,
                "train_limit": self.args.train_limit}

    def sws(self, *argv, base=None):
        b = base or self.base()
        return [self.args.sws, *argv, "--model", self.args.model, "--data", b["data"],
                "--threads", str(b["threads"]), "--seed", str(b["run_seed"])] + \
               (["--train-limit", str(b["train_limit"])] if b["train_limit"] else [])

    def pretrain(self):
        """One pretraining for the whole study; concurrent workers wait for the first one's."""
        with open(os.path.join(self.out, "pretrain.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if os.path.exists(self.pretrained):
                return
            # Like the trials, it never reads the test set.
            cmd = self.sws("pretrain", "--no-test", "--out", os.path.dirname(self.pretrained))
            if self.args.pretrain_epochs:
                cmd += ["--epochs", str(self.args.pretrain_epochs)]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            with open(os.path.join(self.out, "pretrain.log"), "w") as log:
                subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, check=True)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            write_json_atomically(os.path.join(self.out, "pretrain.json"),
                                  {"cpu_seconds": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime})

    def trial_dir(self, number):
        return os.path.join(self.out, "trials", f"{number:04d}")

    def run_trial(self, number, trial_id, flags, resume):
        folder = self.trial_dir(number)
        os.makedirs(folder, exist_ok=True)
        beat = Heartbeat(folder, self.args.heartbeat)
        try:
            # A resumed trial keeps its flags and the arguments it started with (threads, data, seed,
            # image limit): its checkpoints hold their bits, and `sws run --resume` refuses others.
            run_json, flags_json = os.path.join(folder, "run.json"), os.path.join(folder, "flags.json")
            base = self.base()
            if resume and os.path.exists(run_json) and os.path.exists(flags_json):
                with open(run_json) as f:
                    base = json.load(f)
                with open(flags_json) as f:
                    flags = spelled_both_ways(json.load(f))
            else:
                write_json_atomically(run_json, base)
                write_json_atomically(flags_json, flags)
            cmd = self.sws("run", "--from-pretrained", self.pretrained, "--out", os.path.join(folder, "run"),
                           "--no-figures", "--no-test", base=base) + flags + (["--resume"] if resume else [])
            started = time.time()
            with open(os.path.join(folder, "log.txt"), "a") as log:
                log.write(("\n== resumed by " if resume else "== ") + f"{socket.gethostname()}:{os.getpid()}: "
                          + " ".join(cmd) + "\n")
                log.flush()
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                beat.proc = proc
                pruned_at = None
                for line in proc.stdout:
                    log.write(line)
                    m = EPOCH_LINE.match(line)
                    if m and int(m.group(1)) == CRASH_AT_EPOCH:  # tests/sweep_test.sh: a worker's crash
                        os.kill(proc.pid, 9)
                        os.kill(os.getpid(), 9)
                    if m and pruned_at is None and 1 - float(m.group(2)) / 100 > self.args.max_error:
                        pruned_at = int(m.group(1))
                        proc.terminate()
                _, status, usage = os.wait4(proc.pid, 0)
                proc.returncode = os.waitstatus_to_exitcode(status)
            attrs = {"seconds": time.time() - started, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                     "exit": proc.returncode, "resumed": resume}
            if resume:
                attrs["cpu_seconds"] += self.previous_cpu(folder)
            write_json_atomically(os.path.join(folder, "cpu.json"), {"cpu_seconds": attrs["cpu_seconds"]})
            if beat.lost:
                return "taken over by another worker after a pause; left to it"
            trial = optuna.trial.Trial(self.study, trial_id)
            if pruned_at is not None:
                attrs["pruned_at_epoch"] = pruned_at
                for k, v in attrs.items():
                    trial.set_user_attr(k, v)
                self.study.tell(number, state=TrialState.PRUNED)
                return "pruned"
            if proc.returncode not in (0, 3):
                for k, v in attrs.items():
                    trial.set_user_attr(k, v)
                self.study.tell(number, state=TrialState.FAIL)
                return f"error (exit {proc.returncode}, see {folder}/log.txt)"
            with open(os.path.join(folder, "run", "metrics.json")) as f:
                m = json.load(f)
            error = 1.0 - m["quantized"]["validation_accuracy"]
            size = m["compression"]["file_bytes"]
            attrs["constraint"] = [error - self.args.max_error]  # <= 0: feasible
            attrs.update({"status": m.get("status", "ok"),
                          "retrained_validation_error": 1.0 - m["retrained"]["validation_accuracy"],
                          "nonzero_fraction": m["quantized"]["nonzero_fraction"],
                          "file_rate": m["compression"]["file_rate"],
                          "epochs_run": m["retrained"]["epochs_run"]})
            for k, v in attrs.items():
                trial.set_user_attr(k, v)
            self.study.tell(number, [error, size])
            return f"validation error {100 * error:.2f}%, {size} bytes ({attrs['status']})"
        finally:
            beat.close()

    def fail_if_running(self, number):
        for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if t.number == number:
                try:
                    self.study.tell(number, state=TrialState.FAIL)
                except Exception:  # finished by another worker meanwhile
                    pass

    @staticmethod
    def previous_cpu(folder):
        try:
            with open(os.path.join(folder, "cpu.json")) as f:
                return json.load(f)["cpu_seconds"]
        except (OSError, ValueError, KeyError):
            return 0.0

    def claim_stale(self):
        """A RUNNING trial whose worker stopped beating, claimed by this worker, and whether its
        folder survived (then it resumes; else it starts again); (None, False) if none."""
        with open(os.path.join(self.out, "study.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # checking a heartbeat's age and renaming it: one worker at a time
            return self.claim_stale_locked()

    def claim_stale_locked(self):
        for t in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            folder = self.trial_dir(t.number)
            beat = os.path.join(folder, "worker.json")
            if not os.path.isdir(folder):  # lost with its disk: whoever creates the folder runs it
                started = t.datetime_start.timestamp() if t.datetime_start else time.time()
                if time.time() - started < self.args.stale_seconds:
                    continue  # just asked; its worker is about to create the folder
                try:
                    os.makedirs(folder)
                except OSError:
                    continue
                return t, False
            try:
                # No worker.json: a claimer died before its first beat; the rename dated the folder.
                last = os.path.getmtime(beat if os.path.exists(beat) else folder)
                if time.time() - last < self.args.stale_seconds:
                    continue
                if os.path.exists(beat):
                    os.rename(beat, f"{beat}.stale-{socket.gethostname()}-{os.getpid()}")
                write_heartbeat(folder)  # ours now, before the lock is released
            except OSError:
                continue
            return t, os.path.isdir(os.path.join(folder, "run"))
        return None, False

    def ask(self):
        """The next trial, or None once the study holds --trials trials (running ones included,
        failed ones not).
        Checking and asking under one lock on OUT, so that workers sharing OUT never overshoot;
        workers on machines that share only a database may each add one trial too many."""
        with open(os.path.join(self.out, "study.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            # FAILED trials never ran (a wrong binary, a lost folder): they do not use up the study.
            if len([t for t in self.study.get_trials(deepcopy=False) if t.state != TrialState.FAIL]) >= self.args.trials:
                return None
            trial = self.study.ask()
            os.makedirs(self.trial_dir(trial.number), exist_ok=True)
            write_heartbeat(self.trial_dir(trial.number))  # so that nobody takes it for stale
            return trial

    # A worker whose trials fail this many times in a row stops: a wrong --sws binary (one older
    # than this script's flags) or a broken data folder would otherwise mark every remaining
    # trial of the study FAIL within seconds each.
    MAX_ERRORS_IN_A_ROW = 3

    def work(self):
        """Runs trials until the study is full; 1 if it stopped after MAX_ERRORS_IN_A_ROW errors."""
        self.pretrain()
        errors_in_a_row = 0
        while True:
            stale, resume = self.claim_stale()
            if stale is not None:
                number, trial_id, label = stale.number, stale._trial_id, " (resumed)" if resume else " (restarted)"
                make_flags = lambda: suggest_flags(optuna.trial.FixedTrial(stale.params), self.args.max_retrain_epochs,
                                                   self.args.min_retrain_epochs)
            else:
                trial = self.ask()
                if trial is None:
                    break
                number, trial_id, label, resume = trial.number, trial._trial_id, "", False
                make_flags = lambda: suggest_flags(trial, self.args.max_retrain_epochs, self.args.min_retrain_epochs)
            try:
                outcome = self.run_trial(number, trial_id, make_flags(), resume=resume)
            except Exception as e:  # a trial that cannot be run or read is FAILED, not left RUNNING
                outcome = f"error: {type(e).__name__}: {e}"
                self.fail_if_running(number)
            print(f"trial {number}{label}: {outcome}", flush=True)
            self.export()
            errors_in_a_row = errors_in_a_row + 1 if outcome.startswith("error") else 0
            if errors_in_a_row == self.MAX_ERRORS_IN_A_ROW:
                print(f"sws sweep: stopping this worker: {errors_in_a_row} trials in a row could not run; the last "
                      f"one's log: {self.trial_dir(number)}/log.txt (is --sws {self.args.sws} this script's build?)",
                      file=sys.stderr, flush=True)
                return 1
        self.export()
        return 0

    def export(self):
        rows = []
        for t in self.study.get_trials(deepcopy=False):
            rows.append({"number": t.number, "state": t.state.name,
                         "validation_error": t.values[0] if t.values else None,
                         "file_bytes": t.values[1] if t.values else None,
                         "params": t.params, **{k: v for k, v in t.user_attrs.items()}})
        try:
            with open(os.path.join(self.out, "pretrain.json")) as f:
                pretrain_cpu = json.load(f)["cpu_seconds"]
        except (OSError, ValueError, KeyError):
            pretrain_cpu = 0.0
        trials_cpu = sum(r.get("cpu_seconds", 0) for r in rows)
        write_json_atomically(os.path.join(self.out, "trials.json"),
                              {"study": self.study.study_name, "model": self.args.model, "trials": rows,
                               "cpu_seconds": trials_cpu + pretrain_cpu, "trials_cpu_seconds": trials_cpu,
                               "pretrain_cpu_seconds": pretrain_cpu})
        keys = sorted({k for r in rows for k in r if k != "params"}) + sorted({k for r in rows for k in r["params"]})
        tmp = os.path.join(self.out, f"trials.csv.tmp-{socket.gethostname()}-{os.getpid()}")
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(keys)
            for r in rows:
                w.writerow([r["params"].get(k, "") if k not in r else r[k] for k in keys])
        os.replace(tmp, os.path.join(self.out, "trials.csv"))


def main(argv):
    p = argparse.ArgumentParser(prog="sws sweep", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", default="lenet5")
    p.add_argument("--data", default="data/mnist")
    p.add_argument("--out", required=True, help="the sweep's folder (pretrained/, trials/, trials.json, study.db)")
    p.add_argument("--trials", type=int, default=100, help="stop once the study holds this many trials (running and pruned ones included; "
                        "failed ones, which could not run, not)")
    p.add_argument("--storage", help="a database URL, or journal:PATH (default sqlite:///OUT/study.db)")
    p.add_argument("--study", help="study name (default sws-MODEL)")
    p.add_argument("--threads", type=int, default=2, help="threads per trial")
    p.add_argument("--max-error", type=float, default=0.05,
                   help="stop (prune) a trial whose unquantised validation error exceeds this at any retraining "
                        "epoch; a finished trial whose quantised error exceeds it is infeasible for the sampler")
    p.add_argument("--max-retrain-epochs", type=int, default=40, help="the longest planned retraining a trial may draw")
    p.add_argument("--min-retrain-epochs", type=int, default=10,
                   help="the shortest planned retraining a trial may draw (LeNet-5 needs about 20 to gather its "
                        "weights on the components)")
    p.add_argument("--pretrain-epochs", type=int, help="the shared pretraining's epochs (default: the model's preset)")
    p.add_argument("--train-limit", type=int, help="proxy trials: only the first N training images")
    p.add_argument("--startup-trials", type=int, default=10, help="random trials before TPE models the front")
    p.add_argument("--seed", type=int, help="the sampler's seed (default: random; workers should differ)")
    p.add_argument("--run-seed", type=int, default=1, help="the seed of every run (pretraining and data order)")
    p.add_argument("--heartbeat", type=float, default=10.0, help="seconds between a worker's heartbeats")
    p.add_argument("--stale-seconds", type=float, default=120.0,
                   help="a RUNNING trial without a heartbeat for this long has lost its worker and is resumed")
    p.add_argument("--sws", default=os.environ.get("SWS_BINARY", "sws"), help="the sws binary")
    args = p.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Optuna 3.1 marks constraints_func experimental and warns once per trial without constraint
    # values (those finished before constraints existed); neither says anything to act on.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    warnings.filterwarnings("ignore", message=".*does not have constraint values.*")
    return Sweep(args).work()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
