#!/usr/bin/env bash
# Data-parallel training over MPI on 2 ranks of this machine (README, "Past one machine"):
#   1. `mpirun -np 2 sws run` end to end on a real MNIST subset: every output file present and valid;
#   2. the same run on one process: every parameter and loss within the derived tolerance
#      (tests/mpi_compare.py says how it is derived);
#   3. the 2-rank run twice: bit-identical files;
#   4. rank 0 killed halfway through writing its second retraining checkpoint: the first stays
#      intact, a resume on 1 rank is refused, the resume on 2 finishes bit-identical to (3);
#   5. a divergence (NaN), and a truncated checkpoint, stop both ranks with the same message;
#   6. a stopped rank (SIGSTOP): the other gives up after --comm-timeout, naming it.
# Exits 77 (skipped) when sws was built without MPI or mpirun is missing.
# Usage: tests/mpi_test.sh SWS MNIST_DIR WITH_MPI(ON|OFF)
set -uo pipefail
sws=$1 data=$2 with_mpi=$3
here=$(cd "$(dirname "$0")" && pwd)
if [[ $with_mpi != ON ]]; then
  echo "SKIP: this sws was built without MPI (SWS_MPI=OFF, or no MPI found: apt-get install libopenmpi-dev openmpi-bin)"
  exit 77
fi
command -v mpirun >/dev/null || { echo "SKIP: no mpirun on PATH (apt-get install openmpi-bin)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# 2 ranks even on fewer cores; root allowed (CI runs as root); one thread per rank.
mpi=(mpirun --oversubscribe -np 2 -x OMP_NUM_THREADS=1)
(( $(id -u) == 0 )) && mpi+=(--allow-run-as-root)
args=(run --model lenet300 --data "$data" --train-limit 2000 --test-limit 500 --pretrain-epochs 2 --retrain-epochs 2
      --retrain-rule fixed --max-drop 1 --threads 1 --seed 3)
status=0
fail() { echo "FAIL: $*"; status=1; }
start=$(date +%s)

# 1. End to end on 2 ranks.
"${mpi[@]}" "$sws" "${args[@]}" --out "$tmp/two" > "$tmp/two.log" 2>&1 || { cat "$tmp/two.log"; echo "FAIL: mpirun -np 2 sws run"; exit 1; }
for f in pretrained.safetensors retrained.safetensors quantized.safetensors prior.safetensors model.sws metrics.json \
         report.md figures/scatter.png figures/retraining.gif; do
  [[ -s $tmp/two/$f ]] || fail "the 2-rank run did not write $f"
done
"$sws" inspect "$tmp/two/model.sws" > /dev/null || fail "sws inspect refuses the 2-rank model.sws"
"$sws" eval --weights "$tmp/two/model.sws" --data "$data" --test-limit 500 > "$tmp/eval.log" 2>&1 || fail "sws eval of the 2-rank model.sws"
grep -q '"ranks"' "$tmp/two/metrics.json" || fail "metrics.json does not record the ranks"
(( $(grep -c "^== stage" "$tmp/two.log") == 3 )) || fail "the stage headings were printed by more than one rank"
ls "$tmp/two/checkpoints" | grep -q tmp && fail "a temporary file was left in checkpoints/"
echo "PASS: 2-rank run end to end, files present and readable"

# 2. Against one process.
"$sws" "${args[@]}" --no-figures --out "$tmp/one" > "$tmp/one.log" 2>&1 || { cat "$tmp/one.log"; echo "FAIL: 1-process run"; exit 1; }
/usr/bin/python3 "$here/mpi_compare.py" "$tmp/one" "$tmp/two" || status=1

# 3. Twice on 2 ranks: bit-identical.
"${mpi[@]}" "$sws" "${args[@]}" --no-figures --out "$tmp/again" > "$tmp/again.log" 2>&1 || fail "second 2-rank run"
for f in pretrained.safetensors retrained.safetensors prior.safetensors quantized.safetensors model.sws; do
  cmp -s "$tmp/two/$f" "$tmp/again/$f" || fail "$f differs between two 2-rank runs"
done
echo "PASS: two 2-rank runs bit-identical"

# 4. Rank 0 killed halfway through writing its second retraining checkpoint.
"${mpi[@]}" -x SWS_TEST_KILL_IN_WRITE=checkpoints/retrain.safetensors:2 "$sws" "${args[@]}" --no-figures \
  --out "$tmp/killed" > "$tmp/killed.log" 2>&1 && fail "the run with a rank killed mid-write exited 0"
[[ -f $tmp/killed/retrained.safetensors ]] && fail "the killed run got past retraining"
"$sws" eval --weights "$tmp/killed/pretrained.safetensors" --data "$data" --test-limit 10 > /dev/null 2>&1 ||
  fail "the pretrained checkpoint is unreadable after the kill"
ls "$tmp/killed/checkpoints/" | grep -q "retrain.safetensors.tmp" || fail "the kill did not land inside the write"
if "$sws" "${args[@]}" --no-figures --out "$tmp/killed" --resume > "$tmp/one-rank-resume.log" 2>&1; then
  fail "a 1-process resume of a 2-rank run was accepted"
else
  grep -q "written by a run on 2 rank(s) and this run has 1" "$tmp/one-rank-resume.log" ||
    { cat "$tmp/one-rank-resume.log"; fail "the refusal does not say why"; }
fi
"${mpi[@]}" "$sws" "${args[@]}" --no-figures --out "$tmp/killed" --resume > "$tmp/resume.log" 2>&1 ||
  { tail -20 "$tmp/resume.log"; fail "the 2-rank resume"; }
grep -q "resuming from .*retrain.safetensors after epoch 1" "$tmp/resume.log" || fail "the resume did not start from epoch 1's checkpoint"
for f in pretrained.safetensors retrained.safetensors prior.safetensors quantized.safetensors model.sws; do
  cmp -s "$tmp/two/$f" "$tmp/killed/$f" || fail "$f after kill and resume differs from the uninterrupted 2-rank run"
done
echo "PASS: rank 0 killed mid-checkpoint, resumed bit-identical; a 1-rank resume refused"

# 5. A divergence stops both ranks with one message.
"${mpi[@]}" "$sws" pretrain --model lenet300 --data "$data" --train-limit 600 --test-limit 10 --epochs 1 --lr 1e30 \
  --threads 1 --out "$tmp/nan" > "$tmp/nan.log" 2>&1 && fail "a diverging 2-rank run exited 0"
n=$(grep -c "sws: error: pretraining diverged at epoch 1, step " "$tmp/nan.log")
[[ $n == 2 ]] && echo "PASS: a divergence stops both ranks with the same message" ||
  { cat "$tmp/nan.log"; fail "expected the divergence message from both ranks, got $n"; }

# 5b. A bad file (a truncated checkpoint): both ranks stop with rank 0's message, no abort.
head -c 1000 "$tmp/two/pretrained.safetensors" > "$tmp/truncated.safetensors"
"${mpi[@]}" "$sws" retrain --model lenet300 --weights "$tmp/truncated.safetensors" --data "$data" --train-limit 600 \
  --epochs 1 --threads 1 --out "$tmp/badfile" > "$tmp/badfile.log" 2>&1 && fail "a 2-rank run on a truncated file exited 0"
n=$(grep -c "sws: error: rank 0: .*truncated.safetensors" "$tmp/badfile.log")
[[ $n == 2 ]] && ! grep -q "MPI_ABORT" "$tmp/badfile.log" && echo "PASS: a bad file stops both ranks with the same message" ||
  { cat "$tmp/badfile.log"; fail "expected rank 0's message about the bad file from both ranks, got $n"; }

# 6. A stopped rank: the other gives up after the timeout, naming it.
"${mpi[@]}" "$sws" pretrain --model lenet300 --data "$data" --train-limit 2000 --test-limit 10 --epochs 200 \
  --threads 1 --comm-timeout 3 --out "$tmp/stopped" > "$tmp/stopped.log" 2>&1 &
launcher=$!
rank1=""
for _ in $(seq 1 200); do  # the rank whose environment says rank 1, once training runs
  for pid in $(pgrep -f "$tmp/stopped"); do
    tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && rank1=$pid
  done
  # A progress line ("pretraining epoch 1/200 step ..."): training steps, not just the start-up notes.
  [[ -n $rank1 ]] && grep -q "epoch [0-9]*/200 step" "$tmp/stopped.log" 2>/dev/null && break
  sleep 0.1
done
if [[ -z $rank1 ]]; then
  fail "rank 1 of the timeout run was not found"
else
  kill -STOP "$rank1"
  stopped_at=$(date +%s)
  for _ in $(seq 1 300); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$launcher" 2>/dev/null; then
    fail "the job still runs 30 s after rank 1 was stopped"
    kill -9 "$launcher" "$rank1" 2>/dev/null
  fi
  wait "$launcher" 2>/dev/null
  waited=$(( $(date +%s) - stopped_at ))
  kill -9 "$rank1" 2>/dev/null
  grep -q "made no progress for 3 s (--comm-timeout): rank 1 did not answer" "$tmp/stopped.log" &&
    echo "PASS: rank 1 stopped; rank 0 gave up after ${waited}s naming it" ||
    { tail -20 "$tmp/stopped.log"; fail "no timeout message naming rank 1"; }
fi
echo "mpi test: $(( $(date +%s) - start )) s"
exit $status
