#!/usr/bin/python3
"""Each mechanism with and without, at one point of a sweep's front (issue 16, point 4).

The sweep's own per-mechanism comparison (bench/sweep_compare.py) is unpaired: trials with a
mechanism and trials without differ in everything else too. This takes one trial of a study (the
point chosen from the front), switches one mechanism at a time (on -> off, or off -> on) with
every other parameter kept, and retrains from the study's shared pretrained checkpoint with
several data-order seeds, the test set off and the data, image limit and thread count the trial
ran with (its run.json), as in the sweep: with the trial's own seed the first variant repeats
the trial bit for bit. Resumable: a finished run (DIR/VARIANT-seedN/metrics.json) is read, not
run again.

A switch that acts only after retraining (pruning and merging by validation, dead units,
codebook fine-tuning: compress/postprocess.cpp) does not retrain: its variant takes the unswitched run's
retrained weights and prior of the same seed and redoes stage 3 alone (`sws quantize --no-test`
with that run's threads, then `sws compress`), which gives the whole run's files and figures bit
for bit (CTest sweep compares them) in a minute instead of a retraining. A variant that changes
only tau's growth, or makes the adaptive rule fixed, is the unswitched run itself wherever that
run added no epoch past the planned ones (the rule reads neither before): its record is copied
(LeNet-300's trial 83: all six such runs had the same retrained weights, prior and model.sws).
--whole-runs runs all of these whole.

  /usr/bin/python3 bench/ablate.py SWEEP_DIR TRIAL --out DIR [--seeds 1 2 3] [--only VARIANT] [--whole-runs]

Prints, per variant, the median validation error and file bytes over the seeds and their change
from the trial's own parameters; DIR/ablation.json holds every run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import optuna  # noqa: E402
from sweep import suggest_flags, write_json_atomically  # noqa: E402


def variants(params):
    """(name, params) for the trial's own point and each mechanism switched."""
    out = [("as chosen", dict(params))]

    def switched(name, **change):
        p = dict(params)
        p.update(change)
        out.append((name, p))

    if params["learn_pi0"]:
        switched("pi_0 fixed (no Beta prior)", learn_pi0=False)
    else:
        switched("pi_0 learned, Beta c=10", learn_pi0=True, pi0_concentration_per_weight=10.0)
    if params["tau_warmup_fraction"] > 0:
        switched("no tau warm-up", tau_warmup_fraction=0.0)
    else:
        switched("tau warm-up 0.25", tau_warmup_fraction=0.25)
    if params["tau_growth"] > 1.0 and params["retrain_rule"] == "adaptive":  # the fixed rule never reads it
        switched("no tau growth", tau_growth=1.0)
    switched("dead units kept" if params["remove_dead_units"] else "dead units removed",
             remove_dead_units=not params["remove_dead_units"])
    if params["prune_by_validation"]:
        switched("no pruning by validation", prune_by_validation=False)
    else:
        switched("pruning by validation 0.002", prune_by_validation=True, prune_budget=0.002)
    # Merging by validation came after the studies' search spaces: a trial without it gets it on.
    if params.get("merge_by_validation"):
        switched("no merging by validation", merge_by_validation=False)
    else:
        switched("merging by validation 0.002", merge_by_validation=True, merge_budget=0.002)
    switched("fixed epochs" if params["retrain_rule"] == "adaptive" else "adaptive rule",
             retrain_rule="fixed" if params["retrain_rule"] == "adaptive" else "adaptive")
    switched("no codebook fine-tuning" if params["finetune_epochs"] else "codebook fine-tuning 1",
             finetune_epochs=0 if params["finetune_epochs"] else 1)
    return out


def flags_of(params):
    flags = suggest_flags(optuna.trial.FixedTrial(params), params["retrain_epochs"])
    # Off spelled out too, so that a preset's pruning or merging never leaks into a point without.
    if not params["prune_by_validation"]:
        flags.append("--no-prune-budget")
    return flags + (["--merge-budget", repr(params["merge_budget"])] if params.get("merge_by_validation")
                    else ["--no-merge-budget"])


# The search space's parameters that only stage 3 reads (compress/postprocess.cpp).
AFTER_RETRAINING = {"remove_dead_units", "prune_by_validation", "prune_budget", "merge_by_validation", "merge_budget",
                    "finetune_epochs"}


def after_retraining_only(base, params):
    """Whether the two points differ only in what stage 3 reads (so they share a retraining)."""
    return all(k in AFTER_RETRAINING for k in set(base) | set(params) if base.get(k) != params.get(k))


def stage3_flags(params):
    """A point's post-processing flags, spelled as tools/sweep.py's suggest_flags spells them."""
    flags = ["--finetune-epochs", str(params["finetune_epochs"]),
             "--remove-dead-units" if params["remove_dead_units"] else "--keep-dead-units"]
    flags += ["--prune-budget", repr(params["prune_budget"])] if params["prune_by_validation"] else ["--no-prune-budget"]
    flags += ["--merge-budget", repr(params["merge_budget"])] if params.get("merge_by_validation") else ["--no-merge-budget"]
    return flags


def read_only_when_extending(base, params):
    """Whether the variant changes only what the adaptive rule reads in the epochs it adds past
    the planned ones (compress/adaptive_rule.h): tau's growth, or the rule itself made fixed."""
    if base["retrain_rule"] != "adaptive":
        return False
    changed = [k for k in set(base) | set(params) if base.get(k) != params.get(k)]
    return bool(changed) and all(k == "tau_growth" or (k == "retrain_rule" and params[k] == "fixed") for k in changed)


def same_run(base, folder):
    """The record of a variant that is the unswitched run `base` bit for bit (that run added no
    epoch, so it never read what the variant changes): base's metrics.json, marked, in `folder`."""
    with open(os.path.join(base, "metrics.json")) as f:
        metrics = json.load(f)
    os.makedirs(folder, exist_ok=True)
    write_json_atomically(os.path.join(folder, "metrics.json"), {**metrics, "same_run_as": os.path.abspath(base)})


def epochs_run(folder):
    with open(os.path.join(folder, "metrics.json")) as f:
        return json.load(f)["retrained"]["epochs_run"]


def finished(metrics, whole_runs=False):
    """A variant's run is done when its folder holds the final metrics.json (`sws quantize`
    writes one of its own first, without the retraining's figures); under --whole-runs, a record
    that came from a shortcut is not."""
    if not os.path.exists(metrics):
        return False
    with open(metrics) as f:
        m = json.load(f)
    return "retrained" in m and not (whole_runs and ("stage3_from" in m or "same_run_as" in m))


def redo_stage3(sws, base, folder, common, flags, log):
    """Stage 3 with post-processing `flags` on the retraining of run folder `base`, with that run's
    thread count: `sws quantize`, `sws compress`, then a metrics.json holding what this script
    reads of a whole run's (the retraining's figures from `base`), written last: finished()
    tells an interrupted call to redo it. Returns the first failing exit code, else quantize's."""
    with open(os.path.join(base, "metrics.json")) as f:
        whole = json.load(f)
    threads = ["--threads", str(whole["retrained"]["settings"]["threads"])]
    cmd = [sws, "quantize", *common, *threads, "--no-test", "--weights", os.path.join(base, "retrained.safetensors"),
           "--prior", os.path.join(base, "prior.safetensors"), "--out", folder] + flags
    print(" ".join(cmd), flush=True)
    rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
    if rc not in (0, 3):
        return rc
    with open(os.path.join(folder, "metrics.json")) as f:
        quantized = json.load(f)
    name = "model.sws" if quantized["status"] == "ok" else "FAILED-model.sws"
    out = subprocess.run([sws, "compress", folder, "-o", os.path.join(folder, name)], stdout=log, stderr=subprocess.STDOUT)
    if out.returncode != 0:
        return out.returncode
    metrics = {"model": whole["model"], "status": quantized["status"], "pretrained": whole["pretrained"],
               "retrained": whole["retrained"], "quantized": quantized["quantized"], "stage3_from": os.path.abspath(base),
               "compression": {**quantized["compression"], "file": name,
                               "file_bytes": os.path.getsize(os.path.join(folder, name))}}
    write_json_atomically(os.path.join(folder, "metrics.json"), metrics)
    return rc


def slug(name):
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")


def trial_run_arguments(sweep, number, fallback_data, fallback_threads):
    """The data, image limit, threads and seed the trial ran with (its run.json; trials from
    before run.json existed: the fallbacks, seed 1)."""
    path = os.path.join(sweep, "trials", f"{number:04d}", "run.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"data": fallback_data, "threads": fallback_threads, "run_seed": 1, "train_limit": None}


def read_runs(path):
    """The runs an earlier call recorded in ablation.json (none if there is none)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)["runs"]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep")
    parser.add_argument("trial", type=int)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds", type=int, nargs="+",
                        help="data-order seeds (default: the trial's own, then the next one)")
    parser.add_argument("--threads", type=int, help="threads per run (default: the trial's)")
    parser.add_argument("--data", default="data/mnist", help="for a trial without run.json only")
    parser.add_argument("--only", action="append", help="run only this variant (repeatable; 'as chosen', the "
                                                        "trial's own parameters, always runs)")
    parser.add_argument("--whole-runs", action="store_true",
                        help="run every variant whole, a shortcut's earlier record included (default: stage 3 alone "
                             "for post-processing switches, the unswitched run's record where it added no epoch)")
    parser.add_argument("--sws", default=os.environ.get("SWS_BINARY", "sws"))
    args = parser.parse_args(argv)
    with open(os.path.join(args.sweep, "trials.json")) as f:
        study = json.load(f)
    trial = next((t for t in study["trials"] if t["number"] == args.trial), None)
    if trial is None:
        sys.exit(f"{args.sweep}/trials.json has no trial {args.trial}")
    pretrained = os.path.join(args.sweep, "pretrained", "model.safetensors")
    run_args = trial_run_arguments(args.sweep, args.trial, args.data, args.threads or 1)
    threads = args.threads or run_args["threads"]
    seeds = args.seeds or [run_args["run_seed"], run_args["run_seed"] + 1]
    if run_args["run_seed"] not in seeds:
        print(f"note: the trial ran with seed {run_args['run_seed']}, not among {seeds}: no run repeats it", flush=True)
    all_variants = variants(trial["params"])
    unknown = [n for n in args.only or [] if n not in dict(all_variants)]
    if unknown:
        sys.exit(f"no variant {unknown} at this trial; its variants: {[n for n, _ in all_variants]}")
    # The unswitched point always runs: every change is measured from it.
    chosen = [(n, params) for n, params in all_variants if not args.only or n in args.only or n == "as chosen"]
    os.makedirs(args.out, exist_ok=True)
    record = os.path.join(args.out, "ablation.json")
    # Earlier calls' runs stay in the record (another --only or --seeds adds to it).
    runs = [r for r in read_runs(record) if (r["variant"], r["seed"]) not in
            {(n, seed) for n, _ in chosen for seed in seeds}]
    for name, params in chosen:
        for seed in seeds:
            folder = os.path.join(args.out, f"{slug(name)}-seed{seed}")
            metrics = os.path.join(folder, "metrics.json")
            common = ["--model", study["model"], "--data", run_args["data"], "--seed", str(seed)] + \
                     (["--train-limit", str(run_args["train_limit"])] if run_args.get("train_limit") else [])
            base = os.path.join(args.out, f"{slug('as chosen')}-seed{seed}")
            if not finished(metrics, args.whole_runs):
                with open(folder + ".log", "w") as log:
                    shortcut = None
                    if name != "as chosen" and not args.whole_runs:
                        if after_retraining_only(trial["params"], params):
                            shortcut = "stage 3"
                        elif read_only_when_extending(trial["params"], params) and \
                                epochs_run(base) == trial["params"]["retrain_epochs"]:
                            shortcut = "same run"
                    if shortcut == "stage 3":
                        rc = redo_stage3(args.sws, base, folder, common, stage3_flags(params), log)
                    elif shortcut == "same run":
                        print(f"{name}, seed {seed}: the unswitched run added no epoch, so it is this run", file=log)
                        same_run(base, folder)
                        rc = 0
                    else:
                        cmd = [args.sws, "run", "--from-pretrained", pretrained, "--out", folder, "--no-figures",
                               "--no-test", "--threads", str(threads)] + common + flags_of(params)
                        print(" ".join(cmd), flush=True)
                        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
                if rc not in (0, 3):
                    sys.exit(f"{name}, seed {seed}: exit {rc} (see {folder}.log)")
            with open(metrics) as f:
                m = json.load(f)
            runs.append({"variant": name, "seed": seed, "params": params, "status": m.get("status", "ok"),
                         "validation_error": 1.0 - m["quantized"]["validation_accuracy"],
                         "file_bytes": m["compression"]["file_bytes"],
                         "nonzero_fraction": m["quantized"]["nonzero_fraction"],
                         "epochs_run": m["retrained"]["epochs_run"]})
            write_json_atomically(record, {"sweep": os.path.abspath(args.sweep), "trial": args.trial, "runs": runs})
    unswitched = [r for r in runs if r["variant"] == "as chosen" and r["seed"] in seeds]
    e0 = statistics.median(r["validation_error"] for r in unswitched)
    b0 = statistics.median(r["file_bytes"] for r in unswitched)
    print(f"\n{study['model']}, trial {args.trial}, seeds {seeds} (medians; validation split)")
    print(f"{'variant':32} {'val. error':>10} {'change':>8} {'bytes':>7} {'change':>7} {'non-zero':>8}  exits")
    for name, _ in chosen:
        rs = [r for r in runs if r["variant"] == name and r["seed"] in seeds]
        e = statistics.median(r["validation_error"] for r in rs)
        b = statistics.median(r["file_bytes"] for r in rs)
        nz = statistics.median(r["nonzero_fraction"] for r in rs)
        print(f"{name:32} {100 * e:9.2f}% {100 * (e - e0):+7.2f} {b:7.0f} {100 * (b / b0 - 1):+6.1f}% {100 * nz:7.2f}%  "
              + ",".join(r["status"] for r in rs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
