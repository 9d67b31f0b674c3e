#!/usr/bin/env bash
# Two builds of the sws command, epoch against epoch: a short `sws run` per model (1 pretraining
# and 1 retraining epoch on 12,000 images, 2 threads), the builds alternating within each round;
# prints each run's per-epoch train_seconds from metrics.json and the medians of new / old.
# Measures the training loop around the step (batching, checks, callbacks, evaluation excluded).
#   bench/compare_epochs.sh OLD_SWS NEW_SWS [ROUNDS=4] [MNIST_DIR=data/mnist]
set -euo pipefail
old=$1 new=$2 rounds=${3:-4} data=${4:-data/mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for round in $(seq 1 "$rounds"); do
  for which in old new; do
    bin=$old; [[ $which == new ]] && bin=$new
    for model in lenet300 lenet5; do
      "$bin" run --model "$model" --pretrain-epochs 1 --retrain-epochs 1 --assign ml --retrain-rule fixed --max-drop 1 \
        --train-limit 12000 \
        --test-limit 500 --threads 2 --no-figures --data "$data" --out "$tmp/$which-$model" >/dev/null 2>&1
      python3 -c "
import json, sys; m = json.load(open(sys.argv[1]))
print(sys.argv[2], sys.argv[3], sys.argv[4], m['pretrained']['epochs'][0]['train_seconds'], m['retrained']['epochs'][0]['train_seconds'])" \
        "$tmp/$which-$model/metrics.json" "$round" "$which" "$model" | tee -a "$tmp/rows"
      rm -rf "${tmp:?}/$which-$model"
    done
  done
done
python3 - "$tmp/rows" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for model in ("lenet300", "lenet5"):
    for stage, col in (("pretraining", 3), ("retraining", 4)):
        ratios = []
        for r in sorted({x[0] for x in rows}):
            pick = lambda w: float(next(x[col] for x in rows if x[0] == r and x[1] == w and x[2] == model))
            ratios.append(pick("new") / pick("old"))
        print(f"{model} {stage} epoch: new / old median {statistics.median(ratios):.2f}, range {min(ratios):.2f}-{max(ratios):.2f}")
PY
