#!/usr/bin/python3
"""The markdown table of a bench/ablate.py record (its ablation.json): one row per variant in
the order they ran, the validation error of each seed, the medians, and the change of each
median against the unswitched point ("as chosen"). Reads the record only; runs nothing.

    /usr/bin/python3 bench/ablation_table.py bench/sweeps/lenet5/ablation-84.json
"""
import json
import statistics
import sys


def table(runs):
    names = list(dict.fromkeys(r["variant"] for r in runs))
    if "as chosen" not in names:
        sys.exit("the record has no 'as chosen' run to compare with")

    def median(rs, key):
        return statistics.median(r[key] for r in rs)

    base = [r for r in runs if r["variant"] == "as chosen"]
    e0, b0 = median(base, "validation_error"), median(base, "file_bytes")
    lines = ["| variant | validation error, seeds in order | median | change | `model.sws`, median | change | "
             "non-zero | epochs |", "|---|---|---|---|---|---|---|---|"]
    for name in names:
        rs = sorted((r for r in runs if r["variant"] == name), key=lambda r: r["seed"])
        e, b = median(rs, "validation_error"), median(rs, "file_bytes")
        seeds = " / ".join(f"{100 * r['validation_error']:.2f}" for r in rs)
        lines.append(f"| {name} | {seeds}% | {100 * e:.2f}% | {100 * (e - e0):+.2f} | {b:,.0f} B | "
                     f"{100 * (b / b0 - 1):+.1f}% | {100 * median(rs, 'nonzero_fraction'):.2f}% | "
                     f"{median(rs, 'epochs_run'):g} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        print(table(json.load(f)["runs"]))
