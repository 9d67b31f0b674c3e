#!/usr/bin/env bash
# The sws command as a user meets it: help with examples, clear errors with a non-zero exit,
# and a short real pretraining run whose outputs eval can read.
#   tests/cli_test.sh path/to/sws path/to/mnist
set -uo pipefail
sws=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

# expect NAME EXIT_CODE PATTERN -- command...: the exit code and a pattern in stdout+stderr.
expect() {
  local name=$1 code=$2 pattern=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [[ $rc == "$code" ]] && grep -qE -- "$pattern" <<<"$out"; then pass "$name"; else
    fail "$name (exit $rc, wanted $code; output: $(head -c 400 <<<"$out"))"
  fi
}

expect "pretrain --help shows an example" 0 "Example:" -- "$sws" pretrain --help
expect "eval --help shows an example" 0 "Example:" -- "$sws" eval --help
expect "no subcommand is an error" 106 "subcommand" -- "$sws"
expect "unknown model is refused" 105 "lenet300" -- "$sws" pretrain --model resnet --out "$tmp/x"
expect "negative epochs are refused" 1 "epochs must be at least 1" -- "$sws" pretrain --epochs -1 --out "$tmp/x" --data "$data"
expect "zero batch is refused" 1 "batch must be at least 1" -- "$sws" pretrain --batch 0 --out "$tmp/x" --data "$data"
expect "missing data folder names the files" 1 "MNIST file not found" -- "$sws" pretrain --data "$tmp/nowhere" --out "$tmp/x"
expect "unwritable output is caught before training" 1 "cannot create output folder|cannot" -- \
  "$sws" pretrain --out /proc/sws-cannot-write --data "$data"

expect "a short real pretraining run" 0 "wrote .*metrics.json" -- \
  "$sws" pretrain --model lenet300 --epochs 1 --train-limit 2000 --test-limit 500 --out "$tmp/run" --data "$data"
[[ -s $tmp/run/model.safetensors && -s $tmp/run/metrics.json ]] && pass "run wrote its files" || fail "run wrote its files"
grep -q '"test_accuracy"' "$tmp/run/metrics.json" && pass "metrics.json has test_accuracy" || fail "metrics.json has test_accuracy"
expect "eval recognises the model from the file" 0 "\(lenet300\): test accuracy" -- \
  "$sws" eval --weights "$tmp/run/model.safetensors" --data "$data" --test-limit 500
expect "eval of another model's checkpoint is refused" 1 "another model" -- \
  "$sws" eval --model lenet5 --weights "$tmp/run/model.safetensors" --data "$data"
head -c 100 "$tmp/run/model.safetensors" > "$tmp/truncated.safetensors"
expect "eval of a truncated checkpoint is refused" 1 "truncated|beyond|exceeds|larger|short" -- \
  "$sws" eval --model lenet300 --weights "$tmp/truncated.safetensors" --data "$data"
expect "eval of a missing file is refused" 1 "nope.safetensors" -- "$sws" eval --model lenet300 --weights "$tmp/nope.safetensors"

echo "$failures failure(s)"
exit $((failures > 0))
