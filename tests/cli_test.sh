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
  # With BAD_INPUT_TABLE=FILE every refusal becomes a row of docs/BAD_INPUT.md.
  if [[ -n ${BAD_INPUT_TABLE:-} && $code != 0 ]]; then
    local message
    message=$(grep -m1 -E -- "$pattern" <<<"$out" | sed "s|$tmp|TMP|g; s/|/\\|/g" | tr '`' "'" | cut -c1-220)
    echo "| $name | $rc | \`$message\` |" >> "$BAD_INPUT_TABLE"
  fi
}

expect "pretrain --help shows an example" 0 "Example:" -- "$sws" pretrain --help
expect "eval --help shows an example" 0 "Example:" -- "$sws" eval --help
expect "no subcommand is an error" 106 "subcommand" -- "$sws"
expect "unknown model is refused" 105 "lenet300" -- "$sws" pretrain --model resnet --out "$tmp/x"
expect "negative epochs are refused" 1 "epochs must be at least 1" -- "$sws" pretrain --epochs -1 --out "$tmp/x" --data "$data"
expect "zero batch is refused" 1 "batch must be at least 1" -- "$sws" pretrain --batch 0 --out "$tmp/x" --data "$data"
expect "missing data folder says so" 1 "MNIST folder .*/nowhere does not exist" -- "$sws" pretrain --data "$tmp/nowhere" --out "$tmp/x"
mkdir -p "$tmp/empty"
expect "a data folder without the files names them" 1 "MNIST file not found in .*/empty; looked for:" -- "$sws" pretrain --data "$tmp/empty" --out "$tmp/x"
expect "an unknown device is refused" 1 "invalid device 'gpu'" -- "$sws" pretrain --device gpu --out "$tmp/x" --data "$data"
if ! nvidia-smi -L >/dev/null 2>&1; then  # here: no GPU (CPU-only build, or no driver)
  expect "--device cuda without a GPU is refused before any work" 1 "no CUDA backend|no GPU" -- \
    "$sws" run --device cuda --out "$tmp/cuda-run" --data "$data"
  [[ ! -e $tmp/cuda-run ]] && pass "nothing written for a refused device" || fail "nothing written for a refused device"
fi
expect "merging by validation on a GPU is refused before any work (it edits host weights)" 1 \
  "--prune-budget and --merge-budget edit the weights on the CPU" -- \
  "$sws" run --device cuda --merge-budget 0.002 --out "$tmp/cuda-merge" --data "$data"
expect "a merge budget over 1 is refused" 1 "--merge-budget must lie between 0 and 1" -- \
  "$sws" run --merge-budget 2 --out "$tmp/x" --data "$data"
expect "merging on and off at once is refused" 108 "excludes --no-merge-budget" -- \
  "$sws" run --merge-budget 0.1 --no-merge-budget --out "$tmp/x" --data "$data"
expect "unwritable output is caught before training" 1 "cannot create output folder|cannot" -- \
  "$sws" pretrain --out /proc/sws-cannot-write --data "$data"

# Broken MNIST files: truncated, and with a corrupted header.
mkdir -p "$tmp/badidx" "$tmp/flipidx"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  gzip -dc "$data/$f.gz" | head -c 5000 > "$tmp/badidx/$f"
  gzip -dc "$data/$f.gz" > "$tmp/flipidx/$f"
done
printf '\x00\x00\x09\x03' | dd of="$tmp/flipidx/train-images-idx3-ubyte" bs=1 seek=0 conv=notrunc 2>/dev/null
expect "truncated MNIST files are refused" 1 "truncated|short|expected" -- "$sws" pretrain --data "$tmp/badidx" --out "$tmp/x"
expect "an IDX file with a wrong magic number is refused" 1 "magic|type" -- "$sws" pretrain --data "$tmp/flipidx" --out "$tmp/x"

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
python3 - "$tmp/run/model.safetensors" "$tmp/corrupt.safetensors" "$tmp/misshaped.safetensors" <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
open(sys.argv[2], "wb").write(b[:8] + b[8:8 + n].replace(b'"F32"', b'"F3X"', 1) + b[8 + n:])
h = json.loads(b[8:8 + n])
h["fc1.bias"]["shape"] = [50, 6]  # 300 values still, in the wrong shape
hb = json.dumps(h).encode()
open(sys.argv[3], "wb").write(struct.pack("<Q", len(hb)) + hb + b[8 + n:])
PY
expect "a checkpoint with a corrupted header is refused" 1 "dtype|F3X" -- \
  "$sws" eval --model lenet300 --weights "$tmp/corrupt.safetensors" --data "$data"
expect "a checkpoint with a wrong-shaped tensor is refused" 1 "fc1.bias" -- \
  "$sws" eval --model lenet300 --weights "$tmp/misshaped.safetensors" --data "$data"
expect "eval of a missing file is refused" 1 "nope.safetensors" -- "$sws" eval --model lenet300 --weights "$tmp/nope.safetensors"

# Soft weight-sharing stages: invalid settings are refused before any work.
expect "run: pi0 outside (0, 1) is refused" 1 "pi0 must lie strictly between 0 and 1" -- "$sws" run --pi0 1.5 --out "$tmp/y" --data "$data"
expect "run: J < 2 is refused" 1 "at least 2" -- "$sws" run --components 1 --out "$tmp/y" --data "$data"
expect "run: negative tau is refused" 1 "tau must be >= 0" -- "$sws" run --tau -1 --out "$tmp/y" --data "$data"
expect "run: zero retraining epochs are refused" 1 "retraining epochs must be at least 1" -- "$sws" run --retrain-epochs 0 --out "$tmp/y" --data "$data"
expect "run: negative pi0 concentration is refused" 1 "pi0-concentration must be >= 0" -- "$sws" run --learn-pi0 --pi0-concentration -1 --out "$tmp/y" --data "$data"
expect "run: unknown model is refused" 105 "lenet300" -- "$sws" run --model vgg --out "$tmp/y"
expect "run --help shows an example" 0 "Example:" -- "$sws" run --help
expect "quantize: a checkpoint is not a prior" 1 "not a prior file" -- \
  "$sws" quantize --model lenet300 --weights "$tmp/run/model.safetensors" --prior "$tmp/run/model.safetensors" --out "$tmp/q" --data "$data"
[[ ! -e $tmp/y/metrics.json ]] && pass "refused runs wrote nothing" || fail "refused runs wrote nothing"

# The whole pipeline on 5,000 real digits. Short retraining cannot cluster the weights yet, so
# maximum-likelihood assignment is used: the test checks every stage and file, not the paper's rates.
expect "run: all three stages on a small subset" 0 "wrote .*report.md" -- \
  "$sws" run --model lenet300 --pretrain-epochs 3 --retrain-epochs 2 --assign ml --retrain-rule fixed --max-drop 1 --merge-widths 0 \
  --train-limit 5000 --test-limit 1000 --out "$tmp/pipe" --data "$data"
for f in pretrained.safetensors retrained.safetensors quantized.safetensors model.sws prior.safetensors metrics.json report.md; do
  [[ -s $tmp/pipe/$f ]] && pass "run wrote $f" || fail "run wrote $f"
done
if python3 - "$tmp/pipe/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
q = m["quantized"]
for key in ("pretrained", "retrained", "quantized"):
    assert 0 <= m[key]["test_accuracy"] <= 1, key
assert q["test_accuracy"] > 0.5, q["test_accuracy"]          # far above chance (0.1)
assert 0 < q["nonzero_fraction"] < 1, q["nonzero_fraction"]  # sparse, not empty
assert 1 <= q["distinct_values"] <= 16, q["distinct_values"]  # quantised to the mixture's means
assert m["compression"]["paper_rate"] > 1
import os
assert m["compression"]["file_bytes"] == os.path.getsize(os.path.dirname(sys.argv[1]) + "/model.sws")
assert abs(m["compression"]["file_rate"] - 4 * q["parameters"] / m["compression"]["file_bytes"]) < 1e-9
PY
then pass "metrics.json: accuracy above chance, sparse, quantised"; else fail "metrics.json: accuracy above chance, sparse, quantised"; fi
accuracy=$(python3 -c "import json,sys; print('%.2f' % (100 * json.load(open(sys.argv[1]))['quantized']['test_accuracy']))" "$tmp/pipe/metrics.json")
expect "eval of the quantised checkpoint agrees with the run" 0 "test accuracy $accuracy%" -- \
  "$sws" eval --weights "$tmp/pipe/quantized.safetensors" --data "$data" --test-limit 1000
expect "quantize reproduces stage 3 from the saved prior" 0 "quantized: validation accuracy .*test accuracy $accuracy%" -- \
  "$sws" quantize --model lenet300 --weights "$tmp/pipe/retrained.safetensors" --prior "$tmp/pipe/prior.safetensors" \
  --assign ml --max-drop 1 --merge-widths 0 --train-limit 5000 --test-limit 1000 --out "$tmp/requant" --data "$data"

# The .sws file: exact round trip, evaluation straight from it, inspection, refusals.
expect "eval reads the .sws file" 0 "test accuracy $accuracy%" -- \
  "$sws" eval "$tmp/pipe/model.sws" --data "$data" --test-limit 1000
expect "decompress writes the dense checkpoint" 0 "wrote" -- "$sws" decompress "$tmp/pipe/model.sws" -o "$tmp/dense.safetensors"
cmp -s "$tmp/dense.safetensors" "$tmp/pipe/quantized.safetensors" && pass "decompressed checkpoint is bit-identical to quantized.safetensors" \
  || fail "decompressed checkpoint is bit-identical to quantized.safetensors"
expect "compress of a run folder" 0 "bytes for 266610 parameters" -- "$sws" compress "$tmp/pipe" -o "$tmp/again.sws"
cmp -s "$tmp/again.sws" "$tmp/pipe/model.sws" && pass "compress reproduces the run's model.sws" || fail "compress reproduces the run's model.sws"
if "$sws" inspect "$tmp/pipe/model.sws" --json | python3 -c "
import json, sys; j = json.load(sys.stdin)
assert j['architecture'] == 'lenet300' and j['parameters'] == 266610 and len(j['tensors']) == 6
assert sum(t['bytes'] for t in j['tensors']) < j['file_bytes']
streams = sum(t['position_bits'] + t['value_bits'] for t in j['tensors']) // 8
assert j['stream_bytes'] == streams and j['framing_bytes'] == j['file_bytes'] - streams > 0, j"; then pass "inspect --json"; else fail "inspect --json"; fi
expect "eval of a .sws file as another model is refused" 1 "holds a lenet300, not a lenet5" -- \
  "$sws" eval "$tmp/pipe/model.sws" --model lenet5 --data "$data"
expect "resume with other settings is refused" 1 "other settings: tau" -- \
  "$sws" run --model lenet300 --pretrain-epochs 3 --retrain-epochs 2 --assign ml --retrain-rule fixed --max-drop 1 --merge-widths 0 \
  --train-limit 5000 --test-limit 1000 --out "$tmp/pipe" --data "$data" --resume --tau 0.5
expect "compress refuses an unquantised checkpoint" 1 "not quantised" -- "$sws" compress "$tmp/pipe/pretrained.safetensors" -o "$tmp/no.sws"
[[ ! -e $tmp/no.sws ]] && pass "refused compress wrote nothing" || fail "refused compress wrote nothing"
head -c 300 "$tmp/pipe/model.sws" > "$tmp/truncated.sws"
expect "eval of a truncated .sws file is refused" 1 "truncated.sws" -- "$sws" eval "$tmp/truncated.sws" --data "$data"
python3 -c "
import sys; b = bytearray(open(sys.argv[1], 'rb').read()); b[len(b) // 2] ^= 0x10; open(sys.argv[2], 'wb').write(b)" \
  "$tmp/pipe/model.sws" "$tmp/flipped.sws"
expect "inspect of a corrupted .sws file is refused" 1 "flipped.sws" -- "$sws" inspect "$tmp/flipped.sws"

# Never a broken model presented as a result: an impossible tau sends every weight to zero; the
# run exits 3 with the measured fall and what to try, and its files say FAILED.
expect "run: a model broken by post-processing exits 3 and says how far it fell" 3 \
  "FAILED: post-processing lost [0-9.]+ points of validation accuracy.*Try more retraining" -- \
  "$sws" run --model mlp:784-32-10 --pretrain-epochs 1 --retrain-epochs 1 --retrain-rule fixed --tau 10000 \
  --train-limit 1000 --test-limit 200 --no-figures --out "$tmp/broken" --data "$data"
[[ -s $tmp/broken/FAILED-model.sws && ! -e $tmp/broken/model.sws ]] && pass "a failed run's file is FAILED-model.sws" \
  || fail "a failed run's file is FAILED-model.sws"
head -1 "$tmp/broken/report.md" | grep -q "^# FAILED" && pass "a failed run's report.md starts with FAILED" \
  || fail "a failed run's report.md starts with FAILED"
grep -q '"status": "failed"' "$tmp/broken/metrics.json" && pass "a failed run's metrics.json says failed" \
  || fail "a failed run's metrics.json says failed"

# A model beyond the paper's three: a dense net by its layer sizes, through the same pipeline.
expect "run: a dense net given by its layer sizes" 0 "wrote .*report.md" -- \
  "$sws" run --model mlp:784-32-10 --pretrain-epochs 1 --retrain-epochs 1 --assign ml --max-drop 1 \
  --train-limit 1000 --test-limit 300 --no-figures --out "$tmp/mlp" --data "$data"
mlp_accuracy=$(python3 -c "import json,sys; print('%.2f' % (100 * json.load(open(sys.argv[1]))['quantized']['test_accuracy']))" "$tmp/mlp/metrics.json")
expect "eval rebuilds the dense net from its .sws file" 0 "\(mlp:784-32-10\): test accuracy $mlp_accuracy%" -- \
  "$sws" eval "$tmp/mlp/model.sws" --data "$data" --test-limit 300
expect "a malformed dense net is refused" 105 "mlp:784-128-64-10" -- "$sws" run --model mlp:784-x-10 --out "$tmp/y"
expect "a dense net of one size is refused" 105 "two or more layer sizes" -- "$sws" run --model mlp:784 --out "$tmp/y"
expect "run --help shows the named model's preset" 0 "--tau FLOAT=0.003" -- "$sws" run --model tutorial --out "$tmp/y" --help
expect "every setting has a flag: pretraining batch" 1 "pretraining batch must be at least 1" -- \
  "$sws" run --pretrain-batch 0 --out "$tmp/y" --data "$data"
expect "every setting has a flag: the initial sigma" 1 "sigma must be positive" -- \
  "$sws" run --init-sigma 0 --out "$tmp/y" --data "$data"
expect "every setting has a flag: a Gamma hyper-prior parameter" 1 "Gamma|hyper-prior" -- \
  "$sws" run --beta-zero -2 --out "$tmp/y" --data "$data"

# The figures: every PNG has its expected size, the film is a GIF with one frame per epoch, and
# `sws plot` redraws them from the run's files alone.
figures_ok() {
  python3 - "$1" <<'PY'
import struct, sys
d = sys.argv[1]
def png_size(path):
    b = open(path, "rb").read(32)
    assert b[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", b[16:24])
for name, size in [("reference", (800, 500)), ("retrained", (800, 500)), ("post-processed", (800, 500)),
                   ("trajectories", (800, 500)), ("scatter", (800, 800)), ("frames/epoch_001", (800, 500)),
                   ("frames/epoch_002", (800, 500))]:
    assert png_size(f"{d}/{name}.png") == size, (name, png_size(f"{d}/{name}.png"))
g = open(f"{d}/retraining.gif", "rb").read()
assert g[:6] == b"GIF89a" and struct.unpack("<HH", g[6:10]) == (800, 500)
def skip_sub_blocks(i):
    while g[i]: i += g[i] + 1
    return i + 1
i, frames = 13 + ((3 << ((g[10] & 7) + 1)) if g[10] & 0x80 else 0), 0
while g[i] != 0x3B:  # walk the blocks up to the trailer
    if g[i] == 0x21: i = skip_sub_blocks(i + 2)
    elif g[i] == 0x2C:
        flags = g[i + 9]
        i += 10 + ((3 << ((flags & 7) + 1)) if flags & 0x80 else 0)
        i = skip_sub_blocks(i + 1)
        frames += 1
    else: raise AssertionError(f"bad GIF block {g[i]:#x} at {i}")
assert frames == 2, frames  # one frame per retraining epoch
PY
}
figures_ok "$tmp/pipe/figures" && pass "run drew the figures and the film" || fail "run drew the figures and the film"
rm -rf "$tmp/pipe/figures"
expect "plot redraws the figures of a run" 0 "wrote .*figures" -- "$sws" plot "$tmp/pipe"
figures_ok "$tmp/pipe/figures" && pass "plot redrew every figure" || fail "plot redrew every figure"
expect "plot of a folder without a run is refused" 1 "metrics.json" -- "$sws" plot "$tmp/nope"

# A preset's on/off settings can be switched off from the command line (sws sweep spells both
# ways): LeNet-300-100's preset learns pi_0 and removes dead units. Its tau warm-up (10 of 40
# epochs) keeps its share when --retrain-epochs changes the epochs: 1 of 4.
settings() {  # learn_pi0, remove_dead_units and the tau warm-up as a run folder's metrics record them
  /usr/bin/python3 -c "import json,sys; m=json.load(open(sys.argv[1])); r=m['retrained']['settings']
print(r['learn_pi0'], m['quantized']['settings'].get('remove_dead_units', False), r['tau_warmup_epochs'])" "$1/metrics.json"
}
short=(--model lenet300 --pretrain-epochs 1 --retrain-epochs 4 --retrain-rule fixed --assign ml --max-drop 1
       --train-limit 500 --test-limit 100 --no-figures --data "$data")
"$sws" run "${short[@]}" --out "$tmp/l300" >/dev/null 2>&1
[[ $(settings "$tmp/l300") == "True True 1" ]] && pass "the LeNet-300-100 preset learns pi_0, removes dead units, warms tau up over 1/4" \
  || fail "the LeNet-300-100 preset learns pi_0, removes dead units, warms tau up over 1/4 (got $(settings "$tmp/l300"))"
"$sws" run "${short[@]}" --from-pretrained "$tmp/l300/pretrained.safetensors" --fixed-pi0 --keep-dead-units \
  --tau-warmup 3 --out "$tmp/l300-off" >/dev/null 2>&1
[[ $(settings "$tmp/l300-off") == "False False 3" ]] && pass "--fixed-pi0 and --keep-dead-units switch them off; --tau-warmup wins" \
  || fail "--fixed-pi0 and --keep-dead-units switch them off; --tau-warmup wins (got $(settings "$tmp/l300-off"))"
# The search's copy of the preset (tools/sweep.py, a new study's first trial) equals compress/presets.cpp's.
if /usr/bin/python3 -c "import optuna" 2>/dev/null; then
  drift=$(/usr/bin/python3 - "$(dirname "$0")/../tools" "$tmp/l300/metrics.json" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
from sweep import preset_params
p, r = preset_params("lenet300", 40), json.load(open(sys.argv[2]))["retrained"]["settings"]
want = {"tau": p["tau"], "components": p["components"], "lr_weights": p["lr_weights"], "lr_means": p["lr_means"],
        "lr_log_precisions": p["lr_log_precisions"], "lr_mixing": p["lr_mixing"], "alpha_zero": p["alpha_zero"],
        "beta_zero": p["beta_zero"], "alpha": p["alpha"], "beta": p["beta"], "pi0": 1 - p["zero_share"],
        "learn_pi0": p["learn_pi0"], "pi0_concentration_per_weight": p["pi0_concentration_per_weight"],
        "tau_growth": p["tau_growth"]}  # (the short run sets its own rule and epochs)
print(" ".join(f"{k}: {r[k]} != {v}" for k, v in want.items() if r[k] != v))
PY
)
  [[ -z $drift ]] && pass "sweep.py's lenet300 preset equals compress/presets.cpp's" || fail "sweep.py's lenet300 preset drifted: $drift"
fi

echo "$failures failure(s)"
exit $((failures > 0))
