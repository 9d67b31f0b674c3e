"""Compares a one-rank run folder with a data-parallel one (tests/mpi_test.sh): every tensor of
the stage checkpoints and every per-epoch loss, within tolerances derived from the run's own
settings (stated in the README, "Past one machine").

Why a tolerance at all: with N ranks each rank sums its share of the batch's per-example
gradients and the allreduce adds the N partial sums, so the float additions happen in another
order than in one process; a reordered float sum moves by about sqrt(n) u of its terms'
magnitude (u = 2^-24), a relative 1e-6 for the batches here. That is the only source of
difference (the data order, the shares' weights and the prior's pieces are exact).

What it grows into is not bounded usefully: Adam's step is about lr x sign(g) early on (and at
most about 3 lr), so a coordinate whose gradient is within the rounding of zero can take the
opposite step (2 lr apart at once), and differences feed back through later steps. The
tolerance is therefore empirical, scaled by what the run does: |w_N - w_1| <= 1e-3 x K x lr after
K steps (retraining: its own K and largest rate added to pretraining's). On the test's run it
leaves margins of 180x (pretrained weights, 3.2e-7 against 5.8e-5) and 7.5x (retrained, 1.6e-5
against 1.2e-4). Loss values, means over the epoch of float losses at those weights: 1e-5
relative (measured 4e-9 and 1.1e-7). Two runs on the same number of ranks are compared bit for
bit by tests/mpi_test.sh.

Usage: /usr/bin/python3 tests/mpi_compare.py ONE_RANK_DIR N_RANK_DIR
"""
import json
import math
import struct
import sys

import numpy as np


def load(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, v in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": np.float32, "F64": np.float64}[v["dtype"]]
        a, b = v["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=dtype).astype(np.float64)
    return out


def steps(stage):
    s = stage["settings"]
    return len(stage["epochs"]) * math.ceil(s["train_images"] / s["batch"])


def main():
    one, many = sys.argv[1], sys.argv[2]
    m1 = json.load(open(one + "/metrics.json"))
    mn = json.load(open(many + "/metrics.json"))
    pre, re = m1["pretrained"], m1["retrained"]
    tol_pre = 1e-3 * steps(pre) * pre["settings"]["lr"]
    rates = [re["settings"][k] for k in ("lr_weights", "lr_means", "lr_log_precisions", "lr_mixing")]
    tol_re = tol_pre + 1e-3 * steps(re) * max(rates)
    failed = False
    for name, tol in (("pretrained", tol_pre), ("retrained", tol_re), ("prior", tol_re)):
        a, b = load(f"{one}/{name}.safetensors"), load(f"{many}/{name}.safetensors")
        if sorted(a) != sorted(b):
            print(f"FAIL: {name}: tensors {sorted(a)} against {sorted(b)}")
            failed = True
            continue
        worst = max(float(np.max(np.abs(a[k] - b[k]))) if a[k].size else 0.0 for k in a)
        verdict = "PASS" if worst <= tol else "FAIL"
        failed |= worst > tol
        print(f"{verdict}: {name}: max |difference| {worst:.3g} within {tol:.3g} (1e-3 x steps x lr)")
    for stage, keys in (("pretrained", ["train_loss"]), ("retrained", ["cross_entropy", "complexity"])):
        e1, en = m1[stage]["epochs"], mn[stage]["epochs"]
        if len(e1) != len(en):
            print(f"FAIL: {stage}: {len(e1)} epochs against {len(en)}")
            failed = True
            continue
        worst = max(abs(a[k] - b[k]) / max(abs(a[k]), 1e-30) for a, b in zip(e1, en) for k in keys)
        verdict = "PASS" if worst <= 1e-5 else "FAIL"
        failed |= worst > 1e-5
        print(f"{verdict}: {stage} loss curve ({', '.join(keys)}): largest relative difference {worst:.3g} within 1e-5")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
