#!/usr/bin/env bash
# GPU against CPU training curves: the same short `sws run` (LeNet-5, 2 pretraining + 2 retraining
# epochs on 5,000 images, ML assignment, seed 1) once with --device cpu and once with --device
# cuda; their metrics.json must agree epoch by epoch within tolerances that float reordering
# allows (the two backends sum in different orders) and a wrong kernel does not:
#   pretraining train_loss          relative difference <= TOL_LOSS (default 0.02)
#   retraining cross_entropy        relative difference <= TOL_LOSS
#   retraining complexity           relative difference <= TOL_LOSS
#   every test accuracy (per epoch, pretrained, retrained)      within TOL_ACC_PP points (default 1)
#   the quantised test accuracy (after ML assignment, more sensitive to where weights land)
#                                   within TOL_QUANT_PP points (default 2)
# Usage: tests/gpu_cpu_curve_test.sh SWS MNIST_DIR [KEEP_DIR]
#   KEEP_DIR: keep both run folders, their logs and the table (curves.md) there; else a temp folder.
# Exits 77 (skipped) when `nvidia-smi -L` fails (no GPU) or SWS has no CUDA backend; 0 on PASS,
# 1 on FAIL. Environment: THREADS (CPU run's threads, default min(nproc, 8)).
set -uo pipefail
if (($# < 2)); then
  echo "usage: $0 SWS MNIST_DIR [KEEP_DIR]" >&2
  exit 2
fi
sws=$1 data=$2
if ! nvidia-smi -L >/dev/null 2>&1; then
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
      --assign ml --seed 1 --no-figures --data "$data" --threads "$threads")

# The GPU run first: a build without the CUDA backend is a skip, not a failure.
for device in cuda cpu; do
  rm -rf "${work:?}/$device"
  start=$(date +%s.%N)
  if ! "$sws" "${args[@]}" --device "$device" --out "$work/$device" >"$work/$device.log" 2>&1; then
    if [[ $device == cuda ]] && grep -q "has no CUDA backend" "$work/$device.log"; then
      echo "gpu_cpu_curve_test: skipped: $sws was built without the CUDA backend"
      exit 77
    fi
    echo "gpu_cpu_curve_test: FAIL: the --device $device run failed; the end of its log:"
    tail -20 "$work/$device.log"
    exit 1
  fi
  echo "--device $device run: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
done

python3 - "$work/cpu/metrics.json" "$work/cuda/metrics.json" "${TOL_LOSS:-0.02}" "${TOL_ACC_PP:-1}" \
  "${TOL_QUANT_PP:-2}" "$work/curves.md" <<'PY'
import json, sys
cpu, gpu = (json.load(open(p)) for p in sys.argv[1:3])
tol_loss, tol_acc, tol_quant = float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
lines, failures = [], []

def row(quantity, epoch, a, b, kind, tol):
    if kind == "rel":  # relative to the larger magnitude (the complexity term can be large and negative)
        diff = abs(a - b) / max(abs(a), abs(b), 1e-12)
        shown, limit, ok = f"{100 * diff:.3f}%", f"{100 * tol:g}%", diff <= tol
    else:  # accuracies, compared in percentage points
        diff = abs(a - b) * 100
        shown, limit, ok = f"{diff:.2f} pp", f"{tol:g} pp", diff <= tol
    lines.append(f"| {quantity} | {epoch} | {a:.6g} | {b:.6g} | {shown} | {limit} | {'ok' if ok else 'FAIL'} |")
    if not ok:
        failures.append(f"{quantity} epoch {epoch}: cpu {a:.6g}, cuda {b:.6g} ({shown} > {limit})")

def epochs(m, stage):
    return m.get(stage, {}).get("epochs", [])

try:
    for stage, keys in (("pretrained", (("train_loss", "rel", tol_loss), ("test_accuracy", "pp", tol_acc))),
                        ("retrained", (("cross_entropy", "rel", tol_loss), ("complexity", "rel", tol_loss),
                                       ("test_accuracy", "pp", tol_acc)))):
        ce, ge = epochs(cpu, stage), epochs(gpu, stage)
        if not ce or len(ce) != len(ge):
            failures.append(f"{stage}: {len(ce)} epochs on cpu, {len(ge)} on cuda")
        for a, b in zip(ce, ge):
            for key, kind, tol in keys:
                row(f"{stage} {key}", a["epoch"], a[key], b[key], kind, tol)
    row("pretrained test_accuracy", "final", cpu["pretrained"]["test_accuracy"], gpu["pretrained"]["test_accuracy"], "pp", tol_acc)
    row("retrained test_accuracy", "final", cpu["retrained"]["test_accuracy"], gpu["retrained"]["test_accuracy"], "pp", tol_acc)
    row("quantized test_accuracy", "final", cpu["quantized"]["test_accuracy"], gpu["quantized"]["test_accuracy"], "pp", tol_quant)
except KeyError as e:
    failures.append(f"metrics.json lacks the key {e}")

table = ["| quantity | epoch | cpu | cuda | difference | tolerance | check |", "|---|---|---|---|---|---|---|"] + lines
verdict = "PASS" if not failures else "FAIL"
text = "\n".join(table) + f"\n\n{verdict}" + "".join(f"\n- {f}" for f in failures) + "\n"
open(sys.argv[6], "w").write(text)
print(text, end="")
sys.exit(0 if not failures else 1)
PY
