#!/usr/bin/env bash
# sws against PyTorch on the GPU, same machine, same run: the training step and the retraining
# step (training step + mixture prior over every parameter, four-group Adam) of the three models
# at batch 64 and 256, and the prior alone (value + gradients) for N = 266,610 to 10M weights.
# Each round runs build/bench_step --device cuda (without and with --prior), build/bench_prior
# --device cuda, then bench/torch_gpu_peer.py all, so that both sides see the same machine state;
# the tables give, per case, the median over rounds of each side's median time, the range over
# rounds and the ratio sws / PyTorch (below 1: sws is faster); for the prior also the bandwidth
# (8 bytes per weight: read w, write its gradient) and its fraction of the H200's datasheet
# 4.8 TB/s (PEAK_GBPS for another GPU; a device-to-device copy measured about 4.3 TB/s there).
#   bench/compare_gpu.sh [ROUNDS=3] [BUILD_DIR=build]
# Environment: REPS (timed steps per case, default 30), PRIOR_REPS (default 20; 5 at 10M),
# PYTHON (the python3 with CUDA PyTorch, default python3), THREADS (host threads, default 2),
# PEAK_GBPS (default 4800), RAW (also write the raw JSON lines there).
# Needs a CUDA build (cmake -DSWS_CUDA=ON) and a GPU; exits 77 when either side reports it has
# none, 1 on any other failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
build=${2:-$root/build}
[[ $build = /* ]] || build=$root/$build
reps=${REPS:-30}
prior_reps=${PRIOR_REPS:-20}
python=${PYTHON:-python3}
threads=${THREADS:-2}
peak=${PEAK_GBPS:-4800}
for exe in bench_step bench_prior; do
  [[ -x $build/$exe ]] || { echo "compare_gpu: $build/$exe not built (cmake --build $build --target $exe)" >&2; exit 1; }
done
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# Runs one side, prefixing its JSON lines with the round; stops the script on failure, with 77
# when the side says it has no GPU.
side() {
  local r=$1 rc=0
  shift
  "$@" >"$out.side" || rc=$?
  if ((rc != 0)); then
    local why=""
    ((rc == 77)) && why=" (it found no GPU, or this build has no CUDA backend)"
    echo "compare_gpu: '$*' failed with exit code $rc$why" >&2
    rm -f "$out.side"
    exit "$rc"
  fi
  sed "s/^{/{\"round\": $r, /" "$out.side" >>"$out"
  rm -f "$out.side"
}

for ((r = 1; r <= rounds; r++)); do
  echo "round $r/$rounds" >&2
  side "$r" "$build/bench_step" --device cuda --threads "$threads" --reps "$reps"
  side "$r" "$build/bench_step" --device cuda --threads "$threads" --reps "$reps" --prior
  side "$r" "$build/bench_prior" --device cuda --threads "$threads" --reps "$prior_reps"
  side "$r" "$python" "$root/bench/torch_gpu_peer.py" all --device cuda --threads "$threads" --reps "$reps" \
    --prior-reps "$prior_reps"
done
cat "$out"
[[ -z ${RAW:-} ]] || cp "$out" "$RAW"
python3 - "$out" "$peak" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
peak = float(sys.argv[2])
models = ["lenet300", "lenet5", "tutorial"]

def pick(**kw):
    return [r for r in rows if all(r.get(k) == v for k, v in kw.items())]

def summary(sel, key="median_s", scale=1e3):
    """Median over rounds of the per-round medians, and their range, as strings and the median."""
    vals = [r[key] * scale for r in sel]
    if not vals:
        return None, "missing"
    m = statistics.median(vals)
    return m, f"{m:.3f} ({min(vals):.3f}-{max(vals):.3f})"

for kind, title in (("step", "Training step"), ("retrain_step", "Retraining step (step + prior, four-group Adam)")):
    print(f"\n{title} on the GPU, ms: median over rounds of each side's median (range over rounds)\n")
    print("| model | batch | sws median ms (range) | PyTorch median ms (range) | ratio sws/PyTorch | sws GFLOP/s |")
    print("|---|---|---|---|---|---|")
    cases = sorted({(r["model"], r["batch"]) for r in rows if r["kind"] == kind},
                   key=lambda c: (models.index(c[0]) if c[0] in models else 99, c[1]))
    for model, batch in cases:
        ours = pick(kind=kind, impl="sws", model=model, batch=batch, device="cuda")
        theirs = pick(kind=kind, impl="torch", model=model, batch=batch, device="cuda")
        om, os_ = summary(ours)
        tm, ts = summary(theirs)
        ratio = f"{om / tm:.2f}" if om and tm else "-"
        gf = f'{statistics.median(r["gflops"] for r in ours):.0f}' if ours else "-"
        print(f"| {model} | {batch} | {os_} | {ts} | {ratio} | {gf} |")

print(f"\nThe prior (value + every gradient, J = 17) on the GPU: ms as above; GB/s = 8 bytes x N / median"
      f" (read w, write its gradient); % of a {peak / 1000:.1f} TB/s peak (PEAK_GBPS)\n")
print("| N | sws ms (range) | sws GB/s | sws % of peak | PyTorch chunked ms (range) | PyTorch chunked GB/s | PyTorch chunked % of peak | PyTorch plain ms (range) | ratio sws/PyTorch chunked |")
print("|---|---|---|---|---|---|---|---|---|")
for n in sorted({r["n"] for r in rows if r["kind"] == "prior"}):
    s = pick(kind="prior", impl="sws", n=n, device="cuda")
    c = pick(kind="prior", impl="torch-chunked", n=n, device="cuda")
    p = pick(kind="prior", impl="torch-plain", n=n, device="cuda")
    sm, ss = summary(s)
    cm, cs = summary(c)
    _, ps = summary(p)
    sg = statistics.median(r["gbytes_per_s"] for r in s) if s else None
    cg = statistics.median(r["gbytes_per_s"] for r in c) if c else None
    print(f"| {n:,} | {ss} | {f'{sg:.0f}' if sg else '-'} | {f'{100 * sg / peak:.1f}%' if sg else '-'} | {cs} | "
          f"{f'{cg:.0f}' if cg else '-'} | {f'{100 * cg / peak:.1f}%' if cg else '-'} | {ps} | {f'{sm / cm:.2f}' if sm and cm else '-'} |")
PY
