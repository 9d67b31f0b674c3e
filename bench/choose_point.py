#!/usr/bin/python3
"""The point a preset takes from a study's front, by a rule fixed before the test set is read.

Among the completed trials that passed their quantisation check, those whose quantised
validation error is at most --max-error and whose non-zero fraction is at most --max-nonzero;
of these the one with the smallest model.sws (ties: the lower validation error, then the lower
trial number). Validation only: nothing here reads the test set. Prints the trial, its figures
and the `sws run` flags that reproduce it (tools/sweep.py's suggest_flags).

    /usr/bin/python3 bench/choose_point.py SWEEP_DIR/trials.json --max-error 0.018 --max-nonzero 0.043

--candidates K also lists the next best trials within the bounds, K in all: the ones to re-run.

A trial's single run is one draw: near the front's edge a run with another data order or
thread count moves by a few tenths of a point. With --reruns, each DIR is bench/ablate.py's
output for one trial (its unswitched runs over several seeds); the rule then applies, among
those trials only, to the medians over their reruns.

    ... --reruns ABLATE_DIR_1 ABLATE_DIR_2 ...
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import optuna  # noqa: E402
from sweep import suggest_flags  # noqa: E402


def ranked(trials, max_error, max_nonzero):
    """The trials within the bounds, best first (the smallest file; ties: the lower validation
    error, then the lower trial number)."""
    # The bounds hold up to float rounding: 1 - 0.982 is 0.018000000000000016, and 1.80% is within 1.8%.
    eps = 1e-9
    eligible = [t for t in trials if t["state"] == "COMPLETE" and t.get("status") == "ok"
                and t["validation_error"] <= max_error + eps and t.get("nonzero_fraction", 1.0) <= max_nonzero + eps]
    return sorted(eligible, key=lambda t: (t["file_bytes"], t["validation_error"], t["number"]))


def choose(trials, max_error, max_nonzero):
    best = ranked(trials, max_error, max_nonzero)
    return best[0] if best else None


def with_reruns(trials, dirs):
    """The trials that were re-run, their figures replaced by the medians over the reruns."""
    out = []
    for d in dirs:
        with open(os.path.join(d, "ablation.json")) as f:
            ablation = json.load(f)
        runs = [r for r in ablation["runs"] if r["variant"] == "as chosen"]
        found = [t for t in trials if t["number"] == ablation["trial"]]
        if not found:
            sys.exit(f"{d}: trial {ablation['trial']} is not in the study")
        t = dict(found[0])
        t.update({"status": "ok" if all(r["status"] == "ok" for r in runs) else "failed",
                  "reruns": len(runs), "seeds": [r["seed"] for r in runs],
                  "validation_error": statistics.median(r["validation_error"] for r in runs),
                  "file_bytes": statistics.median(r["file_bytes"] for r in runs),
                  "nonzero_fraction": statistics.median(r["nonzero_fraction"] for r in runs),
                  "epochs_run": statistics.median(r["epochs_run"] for r in runs)})
        out.append(t)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("trials_json")
    p.add_argument("--max-error", type=float, required=True, help="validation error bound (a fraction)")
    p.add_argument("--max-nonzero", type=float, default=1.0, help="non-zero fraction bound")
    p.add_argument("--candidates", type=int, default=1,
                   help="also list the next best trials within the bounds, up to this many in all (to re-run)")
    p.add_argument("--reruns", nargs="+", help="bench/ablate.py output folders: choose among these trials by the "
                                                "medians of their reruns")
    args = p.parse_args()
    with open(args.trials_json) as f:
        study = json.load(f)
    trials = with_reruns(study["trials"], args.reruns) if args.reruns else study["trials"]
    for t in trials if args.reruns else []:
        print(f"trial {t['number']}: median of {t['reruns']} reruns (seeds {t['seeds']}): "
              f"{100 * t['validation_error']:.2f}% validation error, {int(t['file_bytes']):,} B, "
              f"{100 * t['nonzero_fraction']:.2f}% non-zero ({t['status']})")
    t = choose(trials, args.max_error, args.max_nonzero)
    if t is None:
        print("no trial meets the bounds")
        return 1
    print(f"{study['study']}: trial {t['number']}: {100 * t['validation_error']:.2f}% validation error"
          f"{' (median of its reruns)' if args.reruns else ''}, "
          f"{int(t['file_bytes']):,} B, {100 * t['nonzero_fraction']:.2f}% non-zero, {t['epochs_run']} epochs")
    print(json.dumps(t["params"], indent=1, sort_keys=True))
    print(" ".join(suggest_flags(optuna.trial.FixedTrial(t["params"]), t["params"]["retrain_epochs"])))
    for k, c in enumerate(ranked(trials, args.max_error, args.max_nonzero)[1:args.candidates], start=2):
        print(f"candidate {k}: trial {c['number']}: {100 * c['validation_error']:.2f}% validation error, "
              f"{int(c['file_bytes']):,} B, {100 * c['nonzero_fraction']:.2f}% non-zero")
    return 0


if __name__ == "__main__":
    sys.exit(main())
