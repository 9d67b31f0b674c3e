#!/usr/bin/env bash
# sws's thread pool and thread count, as the running processes really have them:
#  1. every entry point computes on sws's pool (core/thread_pool.h) and on nothing else: while it
#     runs, its process holds threads-1 threads named sws-worker and no other thread (neither
#     OpenBLAS nor OpenMP starts a team of its own; OpenBLAS reports 1 thread). Checked on a
#     program using the library (tests/probe), the CLI during a real pretraining run, and the
#     training-step benchmark; the doctest suite checks itself (tests/test_thread_pool.cpp) and
#     tests/install_test.sh checks the probe built against the installed package;
#  2. the thread count follows --threads over OMP_NUM_THREADS over the CPUs available (affinity
#     mask; the cgroup quota is covered by the unit tests' fake trees);
#  3. a run interrupted on 2 CPUs and resumed on 1 without --threads keeps its 2 threads and
#     finishes bit-identical to an uninterrupted run; an explicit other --threads is refused.
# Usage: tests/threads_test.sh BUILD_DIR MNIST_DIR
set -uo pipefail
build=$1 data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset OMP_NUM_THREADS
status=0
fail() { echo "FAIL: $*"; status=1; }
# The CPUs this process may use, worked out independently of sws: the affinity mask (nproc),
# capped by a CPU quota set at the container's cgroup root (v2 cpu.max, v1 cfs_quota_us), rounded up.
cpus=$(nproc)
read -r quota period 2>/dev/null </sys/fs/cgroup/cpu.max ||
  { quota=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null); period=$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us 2>/dev/null); }
if [[ ${quota:-max} =~ ^[0-9]+$ && ${period:-0} =~ ^[1-9][0-9]*$ ]]; then
  limit=$(( (quota + period - 1) / period ))
  (( limit >= 1 && limit < cpus )) && cpus=$limit
fi

# 1 and 2 on the library: the probe's report.
probe() {  # EXPECTED_REPORT DESCRIPTION COMMAND...
  local expected=$1 what=$2; shift 2
  local got; got=$("$@" 2>&1 | tr '\n' ' ')
  [[ $got == "$expected " ]] && echo "PASS: $what: $got" || fail "$what: got '$got', expected '$expected'"
}
probe "threads $cpus (the CPUs available) workers $((cpus - 1)) others 0 blas_threads 1" \
  "library, no setting" "$build/runtime_probe"
probe "threads 3 (OMP_NUM_THREADS) workers 2 others 0 blas_threads 1" \
  "library, OMP_NUM_THREADS=3" env OMP_NUM_THREADS=3 "$build/runtime_probe"
probe "threads 1 (--threads) workers 0 others 0 blas_threads 1" \
  "library, OMP_NUM_THREADS=3 and set_num_threads(1)" env OMP_NUM_THREADS=3 "$build/runtime_probe" --threads 1
probe "threads 1 (the CPUs available) workers 0 others 0 blas_threads 1" \
  "library, taskset -c 0" taskset -c 0 "$build/runtime_probe"
got=$(OMP_NUM_THREADS=zero "$build/sws" pretrain --model lenet300 --data "$data" --out "$tmp/bad" 2>&1)
grep -q "OMP_NUM_THREADS='zero' is not a positive thread count" <<<"$got" \
  && echo "PASS: a malformed OMP_NUM_THREADS is refused by name" || fail "OMP_NUM_THREADS=zero gave: $got"

# 1 and 2 on the CLI: the threads of a real pretraining run, sampled while it trains, and the
# thread count it recorded.
watch_run() {  # EXPECTED_THREADS DESCRIPTION ENV_AND_COMMAND... (the command gets --out itself)
  local expected=$1 what=$2; shift 2
  local out=$tmp/run$RANDOM
  "$@" pretrain --model lenet5 --epochs 1 --train-limit 3000 --test-limit 200 --data "$data" --out "$out" \
    >/dev/null 2>"$out.log" &
  local pid=$! workers=0 others=0 w o
  while kill -0 "$pid" 2>/dev/null; do
    w=0 o=0
    for task in /proc/$pid/task/*; do
      [[ $task == /proc/$pid/task/$pid ]] && continue
      case $(cat "$task/comm" 2>/dev/null) in sws-worker) w=$((w + 1)) ;; '') ;; *) o=$((o + 1)) ;; esac
    done
    ((w > workers)) && workers=$w
    ((o > others)) && others=$o
    sleep 0.02
  done
  wait "$pid" || { fail "$what: the run failed: $(tail -1 "$out.log")"; return; }
  local recorded
  recorded=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["settings"]["threads"])' "$out/metrics.json")
  [[ $recorded == "$expected" && $workers == $((expected - 1)) && $others == 0 ]] \
    && echo "PASS: $what: $recorded threads recorded, at most $workers sws-worker and $others other threads seen" \
    || fail "$what: $recorded threads recorded, $workers sws-worker and $others other threads seen (expected $expected, $((expected - 1)), 0)"
}
watch_run "$cpus" "sws pretrain, no setting" "$build/sws"
watch_run 3 "sws pretrain, OMP_NUM_THREADS=3" env OMP_NUM_THREADS=3 "$build/sws"
watch_run 1 "sws pretrain, taskset -c 0" taskset -c 0 "$build/sws"
flagged() { exec env OMP_NUM_THREADS=3 "$build/sws" "$@" --threads 2; }  # exec: its pid is the run's
watch_run 2 "sws pretrain --threads 2 beside OMP_NUM_THREADS=3" flagged

# 1 on the benchmark: bench_step reports its process's threads after each case.
line=$("$build/bench_step" --models lenet300 --batch 64 --reps 2 --threads 2)
grep -q '"pool_workers": 1, "other_threads": 0' <<<"$line" && echo "PASS: bench_step runs on the pool alone" \
  || fail "bench_step printed: $line"

# 3. Interrupted on 2 CPUs, resumed on 1.
if (( cpus < 2 )); then
  echo "SKIP: the resume on fewer CPUs needs 2 CPUs ($cpus here)"
  exit $status
fi
args=(pretrain --model lenet300 --epochs 3 --train-limit 20000 --test-limit 500 --data "$data" --seed 3)
taskset -c 0,1 "$build/sws" "${args[@]}" --out "$tmp/reference" >/dev/null 2>&1 || fail "reference run"
interrupted() {  # OUT: a run on CPUs 0,1 killed right after its first checkpoint
  taskset -c 0,1 "$build/sws" "${args[@]}" --out "$1" >/dev/null 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null && [[ ! -e $1/checkpoints/pretrain.safetensors ]]; do sleep 0.01; done
  kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [[ ! -e $1/model.safetensors ]] || { echo "the run finished before the kill"; return 1; }
}
if interrupted "$tmp/resumed"; then
  taskset -c 0 "$build/sws" "${args[@]}" --out "$tmp/resumed" --resume >/dev/null 2>"$tmp/resume.log" \
    || fail "resume on 1 CPU: $(tail -1 "$tmp/resume.log")"
  grep -q "resuming with 2 threads" "$tmp/resume.log" && echo "PASS: the resume on 1 CPU kept the checkpoint's 2 threads" \
    || fail "the resume did not say it kept 2 threads: $(cat "$tmp/resume.log")"
  cmp -s "$tmp/reference/model.safetensors" "$tmp/resumed/model.safetensors" \
    && echo "PASS: interrupted on 2 CPUs, resumed on 1: bit-identical" || fail "the resumed model differs from the reference"
else
  fail "could not interrupt the run"
fi
if interrupted "$tmp/refused"; then
  got=$(taskset -c 0 "$build/sws" "${args[@]}" --out "$tmp/refused" --resume --threads 1 2>&1)
  grep -q 'other settings: threads (saved 2, now 1)' <<<"$got" \
    && echo "PASS: --resume --threads 1 on a 2-thread checkpoint is refused" || fail "--threads 1 on resume gave: $got"
fi
exit $status
