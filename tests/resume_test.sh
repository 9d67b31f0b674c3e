#!/usr/bin/env bash
# Kill-and-resume: a short real `sws run` is killed with SIGKILL at random moments and resumed
# with --resume until it finishes; its checkpoints must be bit-identical to an uninterrupted
# run's with the same seed and thread count.
# Usage: tests/resume_test.sh SWS MNIST_DIR
set -uo pipefail
sws=$1 data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(run --model lenet5 --pretrain-epochs 4 --retrain-epochs 4 --train-limit 1000 --test-limit 300
      --assign ml --max-drop 1 --max-retrain-epochs 6 --data "$data" --threads 2 --seed 7)
start=$(date +%s.%N)
"$sws" "${args[@]}" --out "$tmp/reference" > "$tmp/reference.log" 2>&1 || { echo "FAIL: reference run"; cat "$tmp/reference.log"; exit 1; }
total=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
echo "uninterrupted run: ${total}s"

kills=0 tries=0
RANDOM=12345
while (( tries < 40 )); do
  tries=$((tries + 1))
  "$sws" "${args[@]}" --out "$tmp/resumed" --resume >> "$tmp/resumed.log" 2>&1 &
  pid=$!
  # A random moment within the run's length: early kills land in pretraining, later ones in
  # retraining, checkpoint writing or post-processing.
  sleep "$(awk -v t="$total" -v r=$RANDOM 'BEGIN { printf "%.3f", t * r / 32767 * 0.35 }')"
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null
    kills=$((kills + 1))
    echo "killed run $tries"
    (( kills >= 5 )) && break
  else
    wait "$pid" && break
    echo "FAIL: an attempt exited with an error"; tail -5 "$tmp/resumed.log"; exit 1
  fi
done
# The random kills may all land before the first checkpoint (a fast machine): then one more
# attempt is killed as soon as a checkpoint exists, so that the last one must resume from it.
if ! compgen -G "$tmp/resumed/checkpoints/*.safetensors" >/dev/null; then
  "$sws" "${args[@]}" --out "$tmp/resumed" --resume >> "$tmp/resumed.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null && ! compgen -G "$tmp/resumed/checkpoints/*.safetensors" >/dev/null; do
    sleep 0.05
  done
  if kill -9 "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null
    kills=$((kills + 1))
    echo "killed run $((tries + 1)) after its first checkpoint"
  else
    wait "$pid" || { echo "FAIL: an attempt exited with an error"; tail -5 "$tmp/resumed.log"; exit 1; }
  fi
fi
# Let the last attempt run to the end.
"$sws" "${args[@]}" --out "$tmp/resumed" --resume >> "$tmp/resumed.log" 2>&1 || { echo "FAIL: final resume"; tail -20 "$tmp/resumed.log"; exit 1; }
grep -q "resuming from" "$tmp/resumed.log" || { echo "FAIL: no attempt resumed from a checkpoint"; exit 1; }
status=0
for f in pretrained.safetensors retrained.safetensors prior.safetensors quantized.safetensors; do
  if cmp -s "$tmp/reference/$f" "$tmp/resumed/$f"; then echo "PASS: $f bit-identical after $kills kills"
  else echo "FAIL: $f differs after $kills kills"; status=1; fi
done
(( kills >= 1 )) || { echo "FAIL: no kill landed"; status=1; }
exit $status
