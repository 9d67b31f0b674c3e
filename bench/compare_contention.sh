#!/usr/bin/env bash
# The training step when the cores are shared: sws and both PyTorch peers, quiet and beside 1
# and 2 competing busy threads (`while :; do :; done` shell loops, started before and stopped
# after each load level). Each side runs as a user would start it: sws on its own thread pool
# (core/thread_pool.h), PyTorch on its OpenMP runtime with its defaults. Rounds alternate
# the load levels and the sides so that all see the same machine. Prints JSON lines (with
# "round", "load" and "impl": sws, torch-1.13 or torch-2.x), then a table of each side's quiet
# median and its contended/quiet ratios (median over rounds; on 2 cores the fair share predicts
# 1.5x beside one busy thread and 2x beside two).
#   bench/compare_contention.sh [ROUNDS=3] [THREADS=2] [REPS=20]
# Needs build/bench_step and the peers (../shared/peer/setup.sh, and setup.sh --modern for the
# current PyTorch; without it that column is left out and the script says so).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3} threads=${2:-2} reps=${3:-20}
peer=${SWS_PEER:-$root/../shared/peer}
libdir=$("$peer/setup.sh" --libdir)
"$peer/setup.sh" >/dev/null
modern=$("$peer/setup.sh" --modern 2>/dev/null) || { modern=""; echo "no modern peer: setup.sh --modern failed" >&2; }
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}  # both OpenBLAS users get the AVX-512 kernels
out=$(mktemp)
busy=()
stop_busy() { if ((${#busy[@]})); then kill "${busy[@]}" 2>/dev/null; wait "${busy[@]}" 2>/dev/null || true; fi; busy=(); }
trap 'stop_busy; rm -f "$out"' EXIT
tag() { sed "s/^{/{\"round\": $1, \"load\": $2, /; s/\"impl\": \"torch\"/\"impl\": \"$3\"/"; }
for ((r = 1; r <= rounds; r++)); do
  for load in 0 1 2; do
    echo "round $r/$rounds, $load busy threads" >&2
    for ((b = 0; b < load; b++)); do bash -c 'while :; do :; done' & busy+=($!); done
    sleep 0.5
    "$root/build/bench_step" --threads "$threads" --reps "$reps" | tag "$r" "$load" sws >>"$out"
    LD_LIBRARY_PATH=$libdir /usr/bin/python3 "$peer/torch_peer.py" step --threads "$threads" --reps "$reps" \
      | tag "$r" "$load" torch-1.13 >>"$out"
    if [[ -n $modern ]]; then
      "$modern" "$peer/torch_peer.py" step --threads "$threads" --reps "$reps" | tag "$r" "$load" torch-2.x >>"$out"
    fi
    stop_busy
  done
done
cat "$out"
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
impls = [i for i in ("sws", "torch-1.13", "torch-2.x") if any(r["impl"] == i for r in rows)]
def med(impl, model, batch, load):
    v = [r["median_s"] * 1e3 for r in rows if (r["impl"], r["model"], r["batch"], r["load"]) == (impl, model, batch, load)]
    return statistics.median(v) if v else float("nan")
def ratio_range(impl, model, batch, load):
    by_round = {}
    for r in rows:
        if (r["impl"], r["model"], r["batch"]) == (impl, model, batch):
            by_round.setdefault(r["round"], {})[r["load"]] = r["median_s"]
    v = [d[load] / d[0] for d in by_round.values() if 0 in d and load in d]
    return f"{min(v):.2f}-{max(v):.2f}" if v else "-"
head = "| model | batch |" + "".join(f" {i} quiet ms | {i} x1 busy | {i} x2 busy |" for i in impls)
print("\n" + head)
print("|---|---|" + "---|---|---|" * len(impls))
for model in ("lenet300", "lenet5", "tutorial"):
    for batch in (64, 256):
        line = f"| {model} | {batch} |"
        for i in impls:
            q = med(i, model, batch, 0)
            line += f" {q:.2f} | {med(i, model, batch, 1) / q:.2f} ({ratio_range(i, model, batch, 1)}) |"
            line += f" {med(i, model, batch, 2) / q:.2f} ({ratio_range(i, model, batch, 2)}) |"
        print(line)
print("\nratios: median contended / median quiet over rounds (range of the per-round ratios)")
PY
