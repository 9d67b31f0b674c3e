#!/usr/bin/python3
"""A post-processing setting with and without on every trial of a study's front (issue 16, point 4).

A setting that acts only after retraining (merging by validation, say) was not in the study's
search space, or not in the binary that ran it. Its effect on the front needs no retraining:
for each trial on the Pareto front of the passed trials (validation error against model.sws
bytes), stage 3 is redone on the trial's own retrained weights and prior (`sws quantize
--no-test` with the trial's seed, threads and post-processing flags, then `sws compress`), once
as the trial ran it and once with the extra flags. Both files come from this binary, so their
bytes are on one scale even when the study's binary wrote an older format version. Validation
only. Resumable: a finished stage 3 with the same flags is read, not redone.

    /usr/bin/python3 bench/stage3_on_front.py SWEEP_DIR --out DIR --with "--merge-budget 0.002"

DIR/stage3.json holds every pair; the table prints each trial's two points and the change.
"""
import argparse
import json
import os
import shlex
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from ablate import redo_stage3, stage3_flags, trial_run_arguments  # noqa: E402
from sweep import write_json_atomically  # noqa: E402


def front(trials):
    """The passed trials no other passed trial beats on both validation error and bytes."""
    passed = sorted((t for t in trials if t["state"] == "COMPLETE" and t.get("status") == "ok"),
                    key=lambda t: (t["file_bytes"], t["validation_error"]))
    out, best = [], float("inf")
    for t in passed:
        if t["validation_error"] < best:
            best = t["validation_error"]
            out.append(t)
    return out


def done_with(path, flags):
    """The record of an earlier call with the same flags, or None."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        done = json.load(f)
    return done if done.get("flags") == flags else None


def stage3(sws, run, folder, model, run_args, flags, log):
    """Stage 3 on `run`'s retraining into `folder` (redone unless an earlier call used the same
    flags); returns its validation error, bytes, non-zero fraction, status and distinct values."""
    done = os.path.join(folder, "done.json")
    if done_with(done, flags) is None:
        common = ["--model", model, "--data", run_args["data"], "--seed", str(run_args["run_seed"])] + \
                 (["--train-limit", str(run_args["train_limit"])] if run_args.get("train_limit") else [])
        rc = redo_stage3(sws, run, folder, common, flags, log)
        if rc not in (0, 3):
            sys.exit(f"stage 3 of {run} into {folder}: exit {rc} (see its log)")
        with open(os.path.join(folder, "metrics.json")) as f:
            m = json.load(f)
        write_json_atomically(done, {"flags": flags, "validation_error": 1 - m["quantized"]["validation_accuracy"],
                                     "file_bytes": m["compression"]["file_bytes"],
                                     "nonzero_fraction": m["quantized"]["nonzero_fraction"], "status": m["status"],
                                     "distinct_values": m["quantized"]["distinct_values"]})
    return done_with(done, flags)


# The flags this script sets itself; the two spellings of dead units; the "off" spellings that
# give way to a setting --with switches on.
OWN = {"--model", "--data", "--seed", "--threads", "--no-test", "--weights", "--prior", "--out", "--train-limit"}
SAME = {"--keep-dead-units": "--remove-dead-units"}
OFF = {"--no-prune-budget": "--prune-budget", "--no-merge-budget": "--merge-budget"}


def names(flags):
    """The settings a list of flags sets ("--x=1" and "--x 1" alike; an "off" spelling sets nothing)."""
    out = set()
    for f in flags:
        if f.startswith("--") and f not in OFF:
            f = f.split("=", 1)[0]
            out.add(SAME.get(f, f))
    return out


def with_extra(flags, extra):
    """A trial's flags with `extra` added, the "off" spelling of what `extra` switches on left out."""
    return [f for f in flags if OFF.get(f) not in names(extra)] + extra


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweep")
    parser.add_argument("--out", required=True)
    parser.add_argument("--with", dest="extra", required=True, help="the post-processing flags to add, quoted")
    parser.add_argument("--data", default="data/mnist", help="for a trial without run.json only")
    parser.add_argument("--sws", default=os.environ.get("SWS_BINARY", "sws"))
    args = parser.parse_args(argv)
    extra = shlex.split(args.extra)
    with open(os.path.join(args.sweep, "trials.json")) as f:
        study = json.load(f)
    if names(extra) & OWN:
        sys.exit(f"--with may not set {sorted(names(extra) & OWN)}: this script sets them from each trial")
    trials = front(study["trials"])
    for t in trials:  # before any work
        both = names(extra) & names(stage3_flags(t["params"]))
        if both:
            sys.exit(f"trial {t['number']} already sets {sorted(both)}: --with must add a setting, not repeat one")
    os.makedirs(args.out, exist_ok=True)
    pairs = []
    for t in trials:
        run = os.path.join(args.sweep, "trials", f"{t['number']:04d}", "run")
        run_args = trial_run_arguments(args.sweep, t["number"], args.data, 1)
        flags = stage3_flags(t["params"])
        with open(os.path.join(args.out, f"{t['number']:04d}.log"), "a") as log:
            without = stage3(args.sws, run, os.path.join(args.out, f"{t['number']:04d}-as-run"), study["model"],
                             run_args, flags, log)
            with_ = stage3(args.sws, run, os.path.join(args.out, f"{t['number']:04d}-with"), study["model"],
                           run_args, with_extra(flags, extra), log)
        pairs.append({"trial": t["number"], "without": without, "with": with_})
        write_json_atomically(os.path.join(args.out, "stage3.json"),
                              {"sweep": os.path.abspath(args.sweep), "with": extra, "pairs": pairs})
    print(f"\n{study['study']}: the front's {len(pairs)} trials, stage 3 as run and with {' '.join(extra)} "
          "(validation; this binary's format)")
    print(f"{'trial':>5} {'error':>7} {'bytes':>7} {'values':>6}  ->  {'error':>7} {'bytes':>7} {'values':>6} {'bytes':>7}")
    for p in pairs:
        a, b = p["without"], p["with"]
        print(f"{p['trial']:5d} {100 * a['validation_error']:6.2f}% {a['file_bytes']:7d} {a['distinct_values']:6d}  ->  "
              f"{100 * b['validation_error']:6.2f}% {b['file_bytes']:7d} {b['distinct_values']:6d} "
              f"{100 * (b['file_bytes'] / a['file_bytes'] - 1):+6.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
