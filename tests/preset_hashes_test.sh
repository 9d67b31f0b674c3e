#!/usr/bin/env bash
# The presets' files, pinned: a short `sws run` per model (1 pretraining and 1 retraining epoch
# on 1,000 images with the default 10% validation split, 2 threads, seed 1; the fixed schedule,
# maximum-likelihood assignment and no merging within widths, since after so short a retraining
# MAP or merging send every weight to zero; failure allowed) must write files whose sha256 equal
# those recorded in tests/preset_hashes.txt, so that moving code cannot change a result
# unnoticed. Recorded before the stages moved into the library (issue 14: unchanged by the
# move), again when the validation split changed the training data on purpose (issue 15), and
# once more for model.sws alone when the writer began sharing one codebook across tensors
# (format version 2, issue 16), and for LeNet-300-100 alone when its preset became the point
# issue 16's search chose, and for model.sws alone once more when the writer moved to version 3
# (varint numbers). Bits depend on the CPU's vector units and OpenBLAS's kernels, so the
# hashes are recorded per machine signature; on another machine the test reports "skipped" (77).
#   tests/preset_hashes_test.sh SWS MNIST_DIR            check
#   RECORD=1 tests/preset_hashes_test.sh SWS MNIST_DIR   (re)write this machine's hashes
set -uo pipefail
sws=$1 data=$2
table=$(dirname "$0")/preset_hashes.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The machine: CPU family/model and the vector extensions -march=native compiles for, and the
# kernel set OpenBLAS chooses (sws prints it in every run's metrics).
flags=$(grep -m1 '^flags' /proc/cpuinfo | grep -oE 'avx512f|avx512bw|avx2|fma' | sort -u | tr '\n' '+')
signature="$(grep -m1 '^cpu family' /proc/cpuinfo | grep -oE '[0-9]+')/$(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | grep -oE '[0-9]+')/${flags%+}"
status=0 rows=()
for model in lenet300 lenet5 tutorial; do
  "$sws" run --model "$model" --pretrain-epochs 1 --retrain-epochs 1 --assign ml --retrain-rule fixed --max-drop 1 \
    --merge-widths 0 --train-limit 1000 --test-limit 200 --threads 2 --seed 1 --no-figures --data "$data" --out "$tmp/$model" >"$tmp/$model.log" 2>&1 \
    || { echo "FAIL: the $model run: $(tail -1 "$tmp/$model.log")"; exit 1; }
  for file in pretrained.safetensors retrained.safetensors prior.safetensors quantized.safetensors model.sws; do
    rows+=("$signature $model $file $(sha256sum "$tmp/$model/$file" | cut -d' ' -f1)")
  done
done
if [[ -n ${RECORD:-} ]]; then
  { grep -v "^$signature " "$table" 2>/dev/null; printf '%s\n' "${rows[@]}"; } | sort >"$tmp/table" && mv "$tmp/table" "$table"
  echo "recorded ${#rows[@]} hashes for $signature in $table"
  exit 0
fi
if ! grep -q "^$signature " "$table" 2>/dev/null; then
  echo "SKIP: no hashes recorded for this machine ($signature); RECORD=1 records them"
  exit 77
fi
for row in "${rows[@]}"; do
  if grep -qxF "$row" "$table"; then echo "PASS: ${row#* }"
  else
    read -r _ model file _ <<<"$row"
    echo "FAIL: $model $file differs from the recorded hash (got ${row##* })"; status=1
  fi
done
exit $status
