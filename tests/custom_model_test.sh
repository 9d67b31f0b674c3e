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

# Exit 3 (post-processing cost more than allowed; files marked FAILED) is a finished run too.
"$bin" "$data" "$tmp/straight" 4000 >"$tmp/straight.log" 2>&1
rc=$?
[[ $rc == 0 || $rc == 3 ]] || fail "the uninterrupted run (exit $rc): $(tail -1 "$tmp/straight.log")"
grep -q "read back" "$tmp/straight.log" || fail "the uninterrupted run printed no result"

# Kill the second run once retraining has written its first epoch's checkpoint.
"$bin" "$data" "$tmp/killed" 4000 >"$tmp/killed.log" 2>&1 &
pid=$!
for _ in $(seq 1 6000); do  # up to 120 s (slow machines, sanitizer builds)
  [[ -e $tmp/killed/checkpoints/retrain.safetensors ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.02
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
[[ -e $tmp/killed/checkpoints/retrain.safetensors ]] || fail "retraining never wrote a checkpoint before the kill"
[[ ! -e $tmp/killed/model.sws && ! -e $tmp/killed/FAILED-model.sws ]] || fail "the run finished before it could be killed (nothing was tested)"
"$bin" "$data" "$tmp/killed" 4000 >"$tmp/resumed.log" 2>&1
[[ $? == "$rc" ]] || fail "the resumed run ended otherwise than the uninterrupted one: $(tail -1 "$tmp/resumed.log")"
grep -q "resuming from .*retrain.safetensors" "$tmp/resumed.log" || fail "the second attempt did not resume retraining"
sws_file=model.sws; [[ $rc == 3 ]] && sws_file=FAILED-model.sws
for f in $sws_file quantized.safetensors retrained.safetensors prior.safetensors pretrained.safetensors metrics.json; do
  if [[ $f == metrics.json ]]; then  # equal but for timings
    python3 - "$tmp/straight/$f" "$tmp/killed/$f" <<'PY' || fail "metrics.json differs from the uninterrupted run's"
import json, sys
def strip(x):
    if isinstance(x, dict): return {k: strip(v) for k, v in x.items() if "seconds" not in k}
    if isinstance(x, list): return [strip(v) for v in x]
    return x
a, b = (strip(json.load(open(p))) for p in sys.argv[1:])
sys.exit(0 if a == b else 1)
PY
  else cmp -s "$tmp/straight/$f" "$tmp/killed/$f" || fail "$f differs from the uninterrupted run's"; fi
done
echo "PASS: killed during retraining and resumed: model.sws and every checkpoint bit-identical to the uninterrupted run"
