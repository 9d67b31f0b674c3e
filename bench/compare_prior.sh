#!/usr/bin/env bash
# The mixture prior (value + every gradient, J = 17) and the whole retraining step, sws against
# PyTorch on this machine in the same run, 2 threads. PyTorch's prior is the peer script's
# chunked autograd.Function (its fastest honest version) and, for the model sizes, plain
# autograd; its retraining step is its training step plus the chunked prior over the model's
# parameters, measured separately and added.
#   bench/compare_prior.sh [THREADS=2]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
threads=${1:-2}
peer=${SWS_PEER:-$root/../shared/peer}
libdir=$("$peer/setup.sh" --libdir)
"$peer/setup.sh" >/dev/null
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-SkylakeX}
out=$(mktemp)
OMP_NUM_THREADS=$threads "$root/build/bench_prior" --threads "$threads" >>"$out"
OMP_NUM_THREADS=$threads /usr/bin/python3 "$peer/torch_peer.py" prior --threads "$threads" --impl chunked \
  --n 266610 431080 642460 10000000 >>"$out"
OMP_NUM_THREADS=$threads /usr/bin/python3 "$peer/torch_peer.py" prior --threads "$threads" --impl plain \
  --n 266610 431080 642460 >>"$out"
OMP_NUM_THREADS=$threads "$root/build/bench_step" --threads "$threads" --prior >>"$out"
LD_LIBRARY_PATH=$libdir OMP_NUM_THREADS=$threads /usr/bin/python3 "$peer/torch_peer.py" step --threads "$threads" >>"$out"
cat "$out"
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def get(**kw):
    for r in rows:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
print("\n| N | sws ms | PyTorch chunked ms | PyTorch plain ms | speed-up vs chunked | sws weights/s | sws peak RSS MB |")
print("|---|---|---|---|---|---|---|")
for n in sorted({r["n"] for r in rows if r["kind"] == "prior"}):
    s, c, p = get(kind="prior", impl="sws", n=n), get(kind="prior", impl="torch-chunked", n=n), get(kind="prior", impl="torch-plain", n=n)
    if not s or not c:
        print(f"| {n:,} | missing: {'sws' if not s else 'PyTorch'} printed no result |")
        continue
    plain = f'{p["median_s"]*1e3:.1f}' if p else "-"
    print(f'| {n:,} | {s["median_s"]*1e3:.2f} | {c["median_s"]*1e3:.1f} | {plain} | {c["median_s"]/s["median_s"]:.1f}x | {s["weights_per_s"]:.3g} | {s["peak_rss_mb"]:.0f} |')
params = {"lenet300": 266610, "lenet5": 431080, "tutorial": 642460}
print("\n| model | batch | sws retraining step ms | PyTorch step + chunked prior ms | speed-up |")
print("|---|---|---|---|---|")
for model, n in params.items():
    for batch in (64, 256):
        s = get(kind="retrain_step", impl="sws", model=model, batch=batch)
        t = get(kind="step", impl="torch", model=model, batch=batch)
        c = get(kind="prior", impl="torch-chunked", n=n)
        torch_ms = (t["median_s"] + c["median_s"]) * 1e3
        print(f'| {model} | {batch} | {s["median_s"]*1e3:.2f} | {torch_ms:.1f} | {torch_ms/(s["median_s"]*1e3):.1f}x |')
PY
rm -f "$out"
