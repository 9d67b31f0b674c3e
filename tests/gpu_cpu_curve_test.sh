#!/usr/bin/env bash
# GPU against CPU training curves: the same short `sws run` (LeNet-5, 2 pretraining + 2 retraining
# epochs on 5,000 images, ML assignment, seed 1) once with --device cpu and once with --device
# cuda; their metrics.json must agree epoch by epoch within tolerances that float reordering
# allows (the two backends sum in different orders) and a wrong kernel does not:
#   pretraining train_loss, retraining cross_entropy   relative difference <= TOL_LOSS (0.01)
#   retraining complexity                              relative difference <= TOL_COMPLEXITY (0.0002)
#   every test accuracy (per epoch, pretrained, retrained)      within TOL_ACC_PP points (1)
#   the quantised test accuracy (after ML assignment, more sensitive to where weights land)
#                                                      within TOL_QUANT_PP points (2)
# Scale of the tolerances: two CPU runs that differ only in their seed (initialisation and data
# order) differ by 2.6-3.7% in pretraining loss, 0.4-1.5% in retraining cross-entropy and
# 0.04-0.05% in complexity; rounding alone should stay far below that (1 and 2 CPU threads
# differ by less than 2e-8 relative).
# Usage: tests/gpu_cpu_curve_test.sh SWS MNIST_DIR [KEEP_DIR]
#   KEEP_DIR: keep the run folders, their logs and the table (curves.md) there; else a temp folder.
# Exits 77 (skipped) when `nvidia-smi -L` fails (no GPU) or SWS has no CUDA backend; 0 on PASS,
# 1 on FAIL. Environment: THREADS (CPU run's threads, default min(nproc, 8)).
# SELF_CHECK=1 checks this harness without a GPU (CTest `curve_harness`): two CPU runs with 1 and
# 2 threads must PASS, and a run with another seed must FAIL against them, in the pretraining
# loss and in the complexity.
set -uo pipefail
if (($# < 2)); then
  echo "usage: $0 SWS MNIST_DIR [KEEP_DIR]" >&2
  exit 2
fi
sws=$1 data=$2
self_check=${SELF_CHECK:-0}
if [[ $self_check != 1 ]] && ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu_cpu_curve_test: skipped: no GPU (nvidia-smi -L failed or is missing)"
  exit 77
fi
if [[ -n ${3:-} ]]; then
  work=$3
  mkdir -p "$work" || exit 1
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
nproc=$(nproc)
threads=${THREADS:-$((nproc < 8 ? nproc : 8))}
args=(run --model lenet5 --pretrain-epochs 2 --retrain-epochs 2 --train-limit 5000 --test-limit 1000
      --assign ml --retrain-rule fixed --max-drop 1 --no-figures --data "$data")

# Runs `sws run` as NAME into $work/NAME; the flags that differ come after the name.
run() {
  local name=$1 start
  shift
  rm -rf "${work:?}/$name"
  start=$(date +%s.%N)
  if ! "$sws" "${args[@]}" "$@" --out "$work/$name" >"$work/$name.log" 2>&1; then
    if [[ $name == cuda ]] && grep -q "has no CUDA backend" "$work/$name.log"; then
      echo "gpu_cpu_curve_test: skipped: $sws was built without the CUDA backend"
      exit 77
    fi
    echo "gpu_cpu_curve_test: FAIL: the $name run failed; the end of its log:"
    tail -20 "$work/$name.log"
    exit 1
  fi
  echo "$name run: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
}

# Compares the runs REF and CAND epoch by epoch; prints the table (also into TABLE) and returns 0
# when every row is within its tolerance, 1 otherwise.
compare() {
  python3 - "$work/$1/metrics.json" "$work/$2/metrics.json" "$1" "$2" "$3" \
    "${TOL_LOSS:-0.01}" "${TOL_COMPLEXITY:-0.0002}" "${TOL_ACC_PP:-1}" "${TOL_QUANT_PP:-2}" <<'PY'
import json, sys
ref, cand = (json.load(open(p)) for p in sys.argv[1:3])
ref_name, cand_name, table_path = sys.argv[3:6]
tol_loss, tol_complexity, tol_acc, tol_quant = (float(v) for v in sys.argv[6:10])
lines, failures = [], []

def row(quantity, epoch, a, b, kind, tol):
    if kind == "rel":  # relative to the larger magnitude (the complexity term can be large and negative)
        diff = abs(a - b) / max(abs(a), abs(b), 1e-12)
        shown, limit, ok = f"{100 * diff:.2g}%", f"{100 * tol:g}%", diff <= tol
    else:  # accuracies, compared in percentage points
        diff = abs(a - b) * 100
        shown, limit, ok = f"{diff:.2f} pp", f"{tol:g} pp", diff <= tol
    lines.append(f"| {quantity} | {epoch} | {a:.8g} | {b:.8g} | {shown} | {limit} | {'ok' if ok else 'FAIL'} |")
    if not ok:
        failures.append(f"{quantity} epoch {epoch}: {ref_name} {a:.8g}, {cand_name} {b:.8g} ({shown} > {limit})")

def epochs(m, stage):
    return m.get(stage, {}).get("epochs", [])

try:
    for stage, keys in (("pretrained", (("train_loss", "rel", tol_loss), ("validation_accuracy", "pp", tol_acc))),
                        ("retrained", (("cross_entropy", "rel", tol_loss), ("complexity", "rel", tol_complexity),
                                       ("validation_accuracy", "pp", tol_acc),
                                       ("snapped_validation_accuracy", "pp", tol_quant)))):
        re_, ce = epochs(ref, stage), epochs(cand, stage)
        if not re_ or len(re_) != len(ce):
            failures.append(f"{stage}: {len(re_)} epochs on {ref_name}, {len(ce)} on {cand_name}")
        for a, b in zip(re_, ce):
            for key, kind, tol in keys:
                row(f"{stage} {key}", a["epoch"], a[key], b[key], kind, tol)
    for stage, tol in (("pretrained", tol_acc), ("retrained", tol_acc), ("quantized", tol_quant)):
        row(f"{stage} test_accuracy", "final", ref[stage]["test_accuracy"], cand[stage]["test_accuracy"], "pp", tol)
except KeyError as e:
    failures.append(f"metrics.json lacks the key {e}")

table = [f"| quantity | epoch | {ref_name} | {cand_name} | difference | tolerance | check |",
         "|---|---|---|---|---|---|---|"] + lines
verdict = "PASS" if not failures else "FAIL"
text = "\n".join(table) + f"\n\n{verdict}" + "".join(f"\n- {f}" for f in failures) + "\n"
open(table_path, "w").write(text)
print(text, end="")
sys.exit(0 if not failures else 1)
PY
}

if [[ $self_check == 1 ]]; then
  run cpu-1-thread --seed 1 --device cpu --threads 1
  run cpu-2-threads --seed 1 --device cpu --threads 2
  run cpu-seed-2 --seed 2 --device cpu --threads 2
  compare cpu-1-thread cpu-2-threads "$work/curves.md" || exit 1
  echo
  echo "Negative control: another seed must not pass."
  compare cpu-2-threads cpu-seed-2 "$work/curves-seed.md"
  rc=$?
  for quantity in "pretrained train_loss" "retrained complexity"; do
    if ((rc != 1)) || ! grep -q "^| $quantity | .* | FAIL |$" "$work/curves-seed.md"; then
      echo "gpu_cpu_curve_test: FAIL: another seed was not caught in $quantity (compare exit $rc)"
      exit 1
    fi
  done
  echo "gpu_cpu_curve_test: self-check PASS (equal runs pass, a different seed fails)"
  exit 0
fi

# The GPU run first: a build without the CUDA backend is a skip, not a failure.
run cuda --seed 1 --device cuda --threads "$threads"
run cpu --seed 1 --device cpu --threads "$threads"
compare cpu cuda "$work/curves.md"
