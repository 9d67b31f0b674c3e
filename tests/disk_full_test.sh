#!/usr/bin/env bash
# A full or size-limited disk: the output folder's free space is checked before any work, and a
# disk that fills during a run stops it with the system's reason, leaves no temporary or partial
# file, and keeps the last checkpoint, from which --resume finishes bit-identical to a run that
# never stopped. A small real tmpfs stands in for the full disk (needs root and mount; that part
# is skipped otherwise); a file-size limit (ulimit -f) needs neither.
# Usage: tests/disk_full_test.sh SWS MNIST_DIR   (BAD_INPUT_TABLE=FILE appends the refusals)
set -uo pipefail
sws=$1 data=$2
tmp=$(mktemp -d)
mounts=()
cleanup() {
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }
row() {  # NAME EXIT MESSAGE_PATTERN LOG: a row of docs/BAD_INPUT.md
  [[ -n ${BAD_INPUT_TABLE:-} ]] || return 0
  local message
  message=$(grep -m1 -E -- "$3" "$4" | sed -E "s|$tmp|TMP|g; s/\.tmp\.[0-9]+/.tmp.PID/g; s/\|/\\\\|/g" | tr '`' "'" | cut -c1-330)
  echo "| $1 | $2 | \`$message\` |" >> "$BAD_INPUT_TABLE"
}
# No temporary files (name.tmp.PID) anywhere below a folder.
no_temporaries() { [[ -z $(find "$1" -name '*.tmp.*' 2>/dev/null) ]]; }

pre=(pretrain --model lenet300 --epochs 3 --train-limit 10000 --test-limit 500 --data "$data" --threads 2 --seed 3)

# 1. A file-size limit below the size of a checkpoint: the write fails with EFBIG (SIGXFSZ is
#    ignored so that the system call returns the error instead of killing the process).
(trap '' XFSZ; ulimit -f 2048; exec "$sws" "${pre[@]}" --out "$tmp/limited") > "$tmp/limited.log" 2>&1
rc=$?
if [[ $rc == 1 ]] && grep -q "File too large" "$tmp/limited.log" && no_temporaries "$tmp/limited" &&
   [[ ! -e $tmp/limited/checkpoints/pretrain.safetensors ]]; then
  pass "a file-size limit stops the run with the reason and no partial file"
  row "a checkpoint larger than the file-size limit (ulimit -f 2048)" 1 "error" "$tmp/limited.log"
else
  fail "file-size limit (exit $rc): $(tail -c 400 "$tmp/limited.log")"
fi

if ! { [[ $(id -u) == 0 ]] && mkdir -p "$tmp/probe" && mount -t tmpfs -o size=1m tmpfs "$tmp/probe" 2>/dev/null; }; then
  echo "skip: cannot mount a tmpfs here (not root, or no mount permission): full-disk cases not run"
  echo "$failures failure(s)"
  exit $(( failures > 0 ))
fi
mounts+=("$tmp/probe")

# 2. Too little free space is refused before any work: a 3 MB disk for `sws run --model lenet300`.
mkdir -p "$tmp/small" && mount -t tmpfs -o size=3m tmpfs "$tmp/small" && mounts+=("$tmp/small")
"$sws" run --model lenet300 --out "$tmp/small/run" --data "$data" > "$tmp/small.log" 2>&1
rc=$?
if [[ $rc == 1 ]] && grep -qE "has [0-9.]+ MB free but this command writes up to" "$tmp/small.log" &&
   [[ -z $(ls -A "$tmp/small/run") ]]; then
  pass "too little free space is refused before any work, nothing written"
  row "an output folder with too little free space (3 MB tmpfs for sws run)" 1 "error" "$tmp/small.log"
else
  fail "free-space check (exit $rc): $(tail -c 400 "$tmp/small.log")"
fi

# 3. The disk fills during a run, after the first epoch's checkpoint: the run stops with ENOSPC,
#    nothing partial is left, the checkpoint survives and --resume (with space again) finishes
#    with weights bit-identical to an uninterrupted run.
"$sws" "${pre[@]}" --out "$tmp/reference" > "$tmp/reference.log" 2>&1 || fail "reference run: $(tail -c 400 "$tmp/reference.log")"
mkdir -p "$tmp/disk" && mount -t tmpfs -o size=40m tmpfs "$tmp/disk" && mounts+=("$tmp/disk")
"$sws" "${pre[@]}" --out "$tmp/disk/run" > "$tmp/full.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [[ -e $tmp/disk/run/checkpoints/pretrain.safetensors ]] && break
  sleep 0.05
done
kill -STOP "$pid" 2>/dev/null  # hold it while the disk fills
cp "$tmp/disk/run/checkpoints/pretrain.safetensors" "$tmp/checkpoint.before"
dd if=/dev/zero of="$tmp/disk/filler" bs=1M 2>/dev/null
kill -CONT "$pid" 2>/dev/null
wait "$pid"
rc=$?
if [[ $rc == 1 ]] && grep -q "No space left on device.*checkpoint of epoch 1 is intact" "$tmp/full.log" && no_temporaries "$tmp/disk/run" &&
   [[ ! -e $tmp/disk/run/model.safetensors ]] &&
   cmp -s "$tmp/checkpoint.before" "$tmp/disk/run/checkpoints/pretrain.safetensors"; then
  pass "a disk that fills mid-run stops it with the reason, no partial file, last checkpoint intact"
  row "the disk fills during a run (40 MB tmpfs filled after epoch 1)" 1 "error" "$tmp/full.log"
else
  fail "disk full mid-run (exit $rc): $(tail -c 400 "$tmp/full.log")"
fi
rm -f "$tmp/disk/filler"
if "$sws" "${pre[@]}" --out "$tmp/disk/run" --resume > "$tmp/resume.log" 2>&1 &&
   cmp -s "$tmp/reference/model.safetensors" "$tmp/disk/run/model.safetensors"; then
  pass "--resume after freeing space finishes bit-identical to the uninterrupted run"
else
  fail "resume after the disk filled: $(tail -c 400 "$tmp/resume.log")"
fi

echo "$failures failure(s)"
exit $(( failures > 0 ))
