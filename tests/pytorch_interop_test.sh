#!/usr/bin/env bash
# CTest wrapper: a short real run, then PyTorch loads the checkpoint strictly and must get the
# same test accuracy. Skipped (exit 77) where torch or safetensors is not installed.
#   tests/pytorch_interop_test.sh path/to/sws path/to/mnist
set -euo pipefail
sws=$1
data=$2
python=${SWS_PYTHON:-/usr/bin/python3}
if ! "$python" -c 'import torch, safetensors' 2>/dev/null; then
  echo "skipped: $python lacks torch or safetensors (apt-get install python3-torch; pip install safetensors)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for model in lenet300 lenet5 tutorial; do
  "$sws" pretrain --model "$model" --epochs 1 --train-limit 1000 --out "$tmp/$model" --data "$data" >/dev/null 2>&1
  accuracy=$("$python" -c "import json, sys; print(json.load(open(sys.argv[1]))['test_accuracy'])" "$tmp/$model/metrics.json")
  "$python" "$(dirname "$0")/pytorch_interop.py" "$tmp/$model/model.safetensors" --data "$data" --expect "$accuracy"
done
