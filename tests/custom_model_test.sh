#!/usr/bin/env bash
# examples/custom_model (a model of one's own through the library's one call, compress_model)
# killed with SIGKILL in the middle of retraining and started again with the same command must
# finish with the files of an uninterrupted run, bit for bit: the resume of a custom model's run.
#   tests/custom_model_test.sh CUSTOM_MODEL_BINARY MNIST_DIR
set -uo pipefail
bin=$1 data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=2  # the same thread count in every attempt (results depend on it)
fail() { echo "FAIL: $*"; exit 1; }

"$bin" "$data" "$tmp/straight" 4000 >"$tmp/straight.log" 2>&1 || fail "the uninterrupted run: $(tail -1 "$tmp/straight.log")"
grep -q "read back" "$tmp/straight.log" || fail "the uninterrupted run printed no result"

# Kill the second run once retraining has written its first epoch's checkpoint.
"$bin" "$data" "$tmp/killed" 4000 >"$tmp/killed.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [[ -e $tmp/killed/checkpoints/retrain.safetensors ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.02
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[[ -e $tmp/killed/checkpoints/retrain.safetensors ]] || fail "retraining never wrote a checkpoint before the kill"
[[ ! -e $tmp/killed/model.sws ]] || fail "the run finished before it could be killed (nothing was tested)"
"$bin" "$data" "$tmp/killed" 4000 >"$tmp/resumed.log" 2>&1 || fail "the resumed run: $(tail -1 "$tmp/resumed.log")"
grep -q "resuming from .*retrain.safetensors" "$tmp/resumed.log" || fail "the second attempt did not resume retraining"
for f in model.sws quantized.safetensors retrained.safetensors prior.safetensors pretrained.safetensors; do
  cmp -s "$tmp/straight/$f" "$tmp/killed/$f" || fail "$f differs from the uninterrupted run's"
done
echo "PASS: killed during retraining and resumed: model.sws and every checkpoint bit-identical to the uninterrupted run"
