#!/usr/bin/env bash
# The quantisation gap over retraining epochs (issue 15): which rule closes it. For each
# (model, dataset), one pretraining (full training set, 10% validation split), then retraining
# runs from it under several rules; every epoch's validation and snapped validation accuracy and
# tau go to one JSON line per run in OUT (bench/results/gap_study.jsonl by default).
#   bench/gap_study.sh SWS [OUT] [CONFIG...]
# CONFIG is "name|model|data|flags"; without any, the study's list below. THREADS (default 2)
# per run; GAP_STUDY_DIR (default /tmp/gap_study) holds the runs and the shared pretrainings.
set -uo pipefail
sws=$1 out=${2:-bench/results/gap_study.jsonl}
shift 2 || true
work=${GAP_STUDY_DIR:-/tmp/gap_study}
mkdir -p "$work"
mnist=data/mnist fashion=/usr/share/datasets/fashion-mnist
configs=("$@")
if [[ ${#configs[@]} == 0 ]]; then
  configs=(
    "mlp-mnist-fixed60|mlp:784-128-64-10|$mnist|--retrain-rule fixed --retrain-epochs 60"
    "mlp-mnist-fixed60-tau0.02|mlp:784-128-64-10|$mnist|--retrain-rule fixed --retrain-epochs 60 --tau 0.02"
    "mlp-fashion-fixed60|mlp:784-128-64-10|$fashion|--retrain-rule fixed --retrain-epochs 60"
    "lenet5-fashion-fixed60|lenet5|$fashion|--retrain-rule fixed --retrain-epochs 60"
    "mlp-mnist-adaptive|mlp:784-128-64-10|$mnist|"
    "lenet5-fashion-adaptive|lenet5|$fashion|"
  )
fi
for config in "${configs[@]}"; do
  IFS='|' read -r name model data flags <<<"$config"
  tag=$(echo "$model-$(basename "$data")" | tr ':' '_')
  pre=$work/pre-$tag
  if [[ ! -s $pre/model.safetensors ]]; then
    "$sws" pretrain --model "$model" --data "$data" --out "$pre" --threads 2 >"$work/pre-$tag.log" 2>&1 \
      || { echo "pretraining $tag failed: $(tail -1 "$work/pre-$tag.log")"; continue; }
  fi
  rm -rf "${work:?}/$name"
  start=$(date +%s)
  # shellcheck disable=SC2086
  "$sws" run --model "$model" --data "$data" --from-pretrained "$pre/model.safetensors" --out "$work/$name" \
    --threads "${THREADS:-2}" --no-figures $flags >"$work/$name.log" 2>&1
  rc=$?
  python3 - "$work/$name/metrics.json" "$name" "$model" "$data" "$flags" "$rc" "$(( $(date +%s) - start ))" >>"$out" <<'PY'
import json, sys
path, name, model, data, flags, rc, seconds = sys.argv[1:]
m = json.load(open(path))
r, q = m["retrained"], m["quantized"]
print(json.dumps({
    "name": name, "model": model, "data": data, "flags": flags, "exit": int(rc), "seconds": int(seconds),
    "epochs": [[e["epoch"], round(e["validation_accuracy"], 4), round(e["snapped_validation_accuracy"], 4),
                round(e["tau"], 5)] for e in r["epochs"]],
    "retrained_validation": r["validation_accuracy"], "quantized_validation": q["validation_accuracy"],
    "nonzero_fraction": q["nonzero_fraction"], "components_merged": q.get("components_merged"),
    "file_rate": m["compression"]["file_rate"], "status": m.get("status")}))
PY
  tail -1 "$out" | cut -c1-300
done
