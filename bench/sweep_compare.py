#!/usr/bin/python3
"""A study's front, and each mechanism with and without on it (issue 16, point 4).

Prints the study's trials by state, its total CPU time, the Pareto front of the completed trials
that passed their quantisation check (validation error against model.sws bytes), then the table
below.

For every categorical setting of the search space (removing dead units, pruning by validation,
learned pi_0, the retraining rule, tau's warm-up), splits the completed trials of a sweep's
trials.json by its value and prints, per value, how many trials there were and the smallest
model.sws among them within each validation-error bound: the front of each half, read at a few
accuracies. Validation errors only (the test set is not read here).

    bench/sweep_compare.py SWEEP_DIR/trials.json [--bounds 0.02,0.025,0.03]
"""
import argparse
import json


def smallest_within(trials, bound):
    sizes = [t["file_bytes"] for t in trials if t["validation_error"] <= bound]
    return min(sizes) if sizes else None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("trials_json")
    p.add_argument("--bounds", default="0.02,0.025,0.03", help="validation-error bounds (fractions)")
    args = p.parse_args()
    bounds = [float(b) for b in args.bounds.split(",")]
    study = json.load(open(args.trials_json))
    done = [t for t in study["trials"] if t["state"] == "COMPLETE" and t["file_bytes"] is not None]
    states = {}
    for t in study["trials"]:
        states[t["state"]] = states.get(t["state"], 0) + 1
    passed = [t for t in done if t.get("status") == "ok"]
    print(f"{study['study']}: {len(study['trials'])} trials {states}; {len(passed)} of the {len(done)} completed "
          f"passed their quantisation check; CPU {study.get('cpu_seconds', 0) / 3600:.2f} h")
    best = float("inf")
    for t in sorted(passed, key=lambda t: (t["file_bytes"], t["validation_error"])):
        if t["validation_error"] < best:
            best = t["validation_error"]
            print(f"front: trial {t['number']}: {100 * best:.2f}% validation error, {int(t['file_bytes']):,} B, "
                  f"{100 * t.get('nonzero_fraction', 0):.2f}% non-zero, {t.get('file_rate', 0):.0f}x, "
                  f"{t.get('epochs_run')} epochs")
    header = "| setting | value | trials | " + " | ".join(f"smallest file at <= {100 * b:g}% error" for b in bounds) + " |"
    print(header)
    print("|" + "---|" * (3 + len(bounds)))
    for name in ("remove_dead_units", "prune_by_validation", "learn_pi0", "retrain_rule", "tau_warmup_fraction"):
        values = sorted({str(t["params"].get(name)) for t in done if name in t["params"]})
        for value in values:
            subset = [t for t in done if str(t["params"].get(name)) == value]
            cells = []
            for b in bounds:
                s = smallest_within(subset, b)
                cells.append(f"{int(s):,} B" if s is not None else "-")
            print(f"| {name} | {value} | {len(subset)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
