#!/usr/bin/env bash
# Two `sws pretrain` runs started side by side against one run alone, per model: the median
# training time per epoch (metrics.json's train_seconds) of each, and the ratio side by side /
# alone (on 2 cores each run's fair share is half the machine: 2x). Runs use the default thread
# count. Rounds alternate alone and side by side; give two binaries to compare an old build with
# a new one in the same rounds.
#   bench/compare_side_by_side.sh [ROUNDS=3] [TRAIN_IMAGES=10000] [SWS=build/sws ...]
# Prints one JSON line per run, then the table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3} images=${2:-10000}
shift $(( $# < 2 ? $# : 2 ))
binaries=("$@")
((${#binaries[@]})) || binaries=("$root/build/sws")
data=${SWS_DATA:-$root/data/mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
epoch_seconds() {  # median train_seconds of a finished run's epochs
  python3 -c 'import json,statistics,sys; m=json.load(open(sys.argv[1])); print(statistics.median(e["train_seconds"] for e in m["epochs"]))' "$1/metrics.json"
}
run() {  # BINARY MODEL OUT
  "$1" pretrain --model "$2" --epochs 2 --train-limit "$images" --test-limit 100 --data "$data" --out "$3" >/dev/null 2>&1
}
out=$tmp/rows.jsonl
for ((r = 1; r <= rounds; r++)); do
  for bin in "${binaries[@]}"; do
    for model in lenet300 lenet5 tutorial; do
      echo "round $r/$rounds: $model, $bin" >&2
      run "$bin" "$model" "$tmp/alone"
      echo "{\"round\": $r, \"binary\": \"$bin\", \"model\": \"$model\", \"mode\": \"alone\", \"epoch_s\": $(epoch_seconds "$tmp/alone")}" >>"$out"
      run "$bin" "$model" "$tmp/a" & a=$!
      run "$bin" "$model" "$tmp/b" & b=$!
      wait $a; wait $b
      for side in a b; do
        echo "{\"round\": $r, \"binary\": \"$bin\", \"model\": \"$model\", \"mode\": \"side_by_side\", \"epoch_s\": $(epoch_seconds "$tmp/$side")}" >>"$out"
      done
      rm -rf "$tmp/alone" "$tmp/a" "$tmp/b"
    done
  done
done
cat "$out"
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("\n| binary | model | alone s/epoch | side by side s/epoch (range) | ratio |")
print("|---|---|---|---|---|")
for binary in dict.fromkeys(r["binary"] for r in rows):
    for model in ("lenet300", "lenet5", "tutorial"):
        alone = [r["epoch_s"] for r in rows if (r["binary"], r["model"], r["mode"]) == (binary, model, "alone")]
        twin = [r["epoch_s"] for r in rows if (r["binary"], r["model"], r["mode"]) == (binary, model, "side_by_side")]
        a, t = statistics.median(alone), statistics.median(twin)
        print(f"| {binary} | {model} | {a:.2f} | {t:.2f} ({min(twin):.2f}-{max(twin):.2f}) | {t / a:.2f} |")
PY
