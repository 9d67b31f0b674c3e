#!/usr/bin/python3
"""The point a preset takes from a study's front, by a rule fixed before the test set is read.

Among the completed trials that passed their quantisation check, those whose quantised
validation error is at most --max-error and whose non-zero fraction is at most --max-nonzero;
of these the one with the smallest model.sws (ties: the lower validation error, then the lower
trial number). Validation only: nothing here reads the test set. Prints the trial, its figures
and the `sws run` flags that reproduce it (tools/sweep.py's suggest_flags).

    /usr/bin/python3 bench/choose_point.py SWEEP_DIR/trials.json --max-error 0.018 --max-nonzero 0.043
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import optuna  # noqa: E402
from sweep import suggest_flags  # noqa: E402


def choose(trials, max_error, max_nonzero):
    eligible = [t for t in trials if t["state"] == "COMPLETE" and t.get("status") == "ok"
                and t["validation_error"] <= max_error and t.get("nonzero_fraction", 1.0) <= max_nonzero]
    return min(eligible, key=lambda t: (t["file_bytes"], t["validation_error"], t["number"]), default=None)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("trials_json")
    p.add_argument("--max-error", type=float, required=True, help="validation error bound (a fraction)")
    p.add_argument("--max-nonzero", type=float, default=1.0, help="non-zero fraction bound")
    args = p.parse_args()
    study = json.load(open(args.trials_json))
    t = choose(study["trials"], args.max_error, args.max_nonzero)
    if t is None:
        print("no trial meets the bounds")
        return 1
    print(f"{study['study']}: trial {t['number']}: {100 * t['validation_error']:.2f}% validation error, "
          f"{int(t['file_bytes']):,} B, {100 * t['nonzero_fraction']:.2f}% non-zero, {t['epochs_run']} epochs")
    print(json.dumps(t["params"], indent=1, sort_keys=True))
    print(" ".join(suggest_flags(optuna.trial.FixedTrial(t["params"]), t["params"]["retrain_epochs"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
