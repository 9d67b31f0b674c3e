#!/usr/bin/env bash
# sws against PyTorch on this machine, same run, same thread count: the training step of the
# three models at batch 64 and 256. Rounds alternate sws and PyTorch so that both see the same
# machine load; the table gives, per case, the median over rounds of each side's median step
# time, the range over rounds, and the ratio sws / PyTorch (below 1: sws is faster).
#   bench/compare.sh [ROUNDS=3] [THREADS=2]
# Needs build/bench_step (scripts/build.sh) and the peer (../shared/peer/setup.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
threads=${2:-2}
peer=${SWS_PEER:-$root/../shared/peer}
libdir=$("$peer/setup.sh" --libdir)
"$peer/setup.sh" >/dev/null
out=$(mktemp)
# Both sides get the same OpenBLAS (OpenMP build) with its AVX-512 kernels: Debian's 0.3.21
# misdetects this CPU as Prescott (see core/blas_kernels.h), and sws corrects that for itself.
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
for ((r = 1; r <= rounds; r++)); do
  echo "round $r/$rounds" >&2
  OMP_NUM_THREADS=$threads "$root/build/bench_step" --threads "$threads" | sed "s/^{/{\"round\": $r, /" >>"$out"
  LD_LIBRARY_PATH=$libdir OMP_NUM_THREADS=$threads /usr/bin/python3 "$peer/torch_peer.py" step --threads "$threads" \
    | sed "s/^{/{\"round\": $r, /" >>"$out"
done
cat "$out"
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
cases = sorted({(r["model"], r["batch"]) for r in rows}, key=lambda c: (["lenet300", "lenet5", "tutorial"].index(c[0]), c[1]))
print("\n| model | batch | sws median ms (range) | PyTorch median ms (range) | ratio sws/PyTorch | sws GFLOP/s |")
print("|---|---|---|---|---|---|")
for model, batch in cases:
    def side(impl):
        return [r for r in rows if r["impl"] == impl and r["model"] == model and r["batch"] == batch]
    ours, theirs = side("sws"), side("torch")
    om = statistics.median(r["median_s"] for r in ours) * 1e3
    tm = statistics.median(r["median_s"] for r in theirs) * 1e3
    orng = f'{min(r["median_s"] for r in ours)*1e3:.2f}-{max(r["median_s"] for r in ours)*1e3:.2f}'
    trng = f'{min(r["median_s"] for r in theirs)*1e3:.2f}-{max(r["median_s"] for r in theirs)*1e3:.2f}'
    gf = statistics.median(r["gflops"] for r in ours)
    print(f"| {model} | {batch} | {om:.2f} ({orng}) | {tm:.2f} ({trng}) | {om/tm:.2f} | {gf:.0f} |")
PY
rm -f "$out"
