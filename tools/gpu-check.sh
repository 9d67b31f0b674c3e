#!/usr/bin/env bash
# shellcheck disable=SC2317  # the has_* helpers are called through need()
# The whole GPU check in one go, on a machine with an NVIDIA GPU, from the repository root:
#   1 prereqs  what the CUDA build needs (GPU, nvcc, cmake >= 3.25, the Debian -dev packages,
#              cuDNN from the toolkit or from the Python package nvidia-cudnn-cu13) and what the
#              benchmark and the curve check need (PyTorch with CUDA, ../shared/peer/torch_peer.py,
#              MNIST); prints exactly what is missing
#   2 build    cmake -DSWS_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 into build-gpu, make -j$(nproc);
#              skipped with PREBUILT=.gpu-pack.tar.xz (or its unpacked folder), the pack that
#              tools/gpu-pack.sh makes on a machine with the Debian -dev packages: the way to run
#              on a GPU machine that lacks them, and the cheaper one in device minutes
#   3 tests    build-gpu/sws_cuda_tests (the CUDA backend against the CPU one, and a one-rank NCCL
#              allreduce set up without MPI), then the CPU suite
#              build-gpu/sws_tests --test-case-exclude=*slow*
#   4 curves   tests/gpu_cpu_curve_test.sh: the same short `sws run` on cpu and cuda, metrics.json
#              compared epoch by epoch
#   5 bench    bench/compare_gpu.sh 3 build-gpu: sws against PyTorch on the GPU
#   6 memcheck compute-sanitizer on sws_cuda_tests: memcheck (out-of-bounds and misaligned
#              accesses, errors of CUDA calls) on every case but the slow finite-difference ones
#              ("cuda: gradients of ..."), racecheck (shared-memory races) on the reductions, the
#              prior and softmax
# Every phase runs even when an earlier one failed (a phase whose input is missing says so); the
# failures are listed at the end and the exit code is 1 if there was any. Results go to $OUT when
# set (the lent GPU machine brings back the files there: at most 8, so they are few), else to
# gpu-check-out/: summary.md (phases, times, the curve table and the benchmark tables),
# prereqs.log, build.log, tests.log, curves.log, curves-metrics.json, bench.log, memcheck.log.
# Aimed at under 8 minutes on an H200 with 16 cores (not yet measured: the per-phase timeouts
# allow more, and summary.md is rewritten after every phase so a cut-off run still reports).
#   tools/gpu-check.sh            environment: MNIST_DIR (default data/mnist), SWS_PEER,
#                                 BENCH_ROUNDS (3), BENCH_REPS (20), PRIOR_REPS (10), PYTHON (python3),
#                                 PHASES (default "prereqs build tests curves bench memcheck": a rerun may
#                                 pick some), BUILD_DIR (default build-gpu), PREBUILT (see 2)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
out=${OUT:-$root/gpu-check-out}
mkdir -p "$out" || exit 1
build=${BUILD_DIR:-$root/build-gpu}
prebuilt=${PREBUILT:-}
if [[ -n $prebuilt ]]; then
  [[ $prebuilt = /* ]] || prebuilt=$root/$prebuilt
  if [[ -f $prebuilt ]]; then  # the .tar.xz made by tools/gpu-pack.sh: unpack it beside itself
    dir=$(dirname "$prebuilt")
    tar -xJf "$prebuilt" -C "$dir" 2>/dev/null ||
      "${PYTHON:-python3}" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$prebuilt" "$dir" ||
      { echo "gpu-check: cannot unpack $prebuilt" >&2; exit 1; }
    prebuilt=$dir/.gpu-pack
  fi
  # The pack's libraries go to its binaries alone, through one wrapper each in run/: exported to
  # every process they would also reach PyTorch, which brings its own. The toolkit's library
  # folders follow them (cuBLAS is opened by soname at first use); pip's cuDNN and cuBLAS
  # folders are exported by the prerequisites phase for both sides.
  libs=$prebuilt/lib
  for d in /usr/local/cuda/lib64 /usr/local/cuda/lib; do [[ -d $d ]] && libs+=:$d; done
  mkdir -p "$prebuilt/run" || exit 1
  for binary in "$prebuilt"/bin/*; do
    printf '#!/bin/sh\nLD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec %s "$@"\n' \
      "$libs" "$binary" >"$prebuilt/run/${binary##*/}" && chmod +x "$prebuilt/run/${binary##*/}" || exit 1
  done
  build=$prebuilt/run
fi
[[ $build = /* ]] || build=$root/$build
mnist=${MNIST_DIR:-$root/data/mnist}
python=${PYTHON:-python3}
jobs=$(nproc)
summary=$out/summary.md
failures=()
phase_rows=()
script_start=$(date +%s)

log() { echo "[gpu-check $(date +%H:%M:%S)] $*"; }
fail() { failures+=("$1: $2"); log "FAIL ($1): $2"; }
# Runs a phase function, times it and records its outcome.
run_phase() {
  local name=$1 start rc
  start=$(date +%s)
  log "=== phase $name ==="
  "phase_$name"
  rc=$?
  local secs=$(($(date +%s) - start))
  phase_rows+=("| $name | $([[ $rc == 0 ]] && echo ok || echo FAIL) | ${secs} s |")
  log "phase $name: $([[ $rc == 0 ]] && echo ok || echo FAIL) in ${secs} s"
}

# The CUDA toolkit's bin may not be on PATH.
if ! command -v nvcc >/dev/null 2>&1; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
    [[ -x $d/nvcc ]] && { PATH=$d:$PATH; break; }
  done
fi
export PATH

# pip's cuDNN and cuBLAS folders (where the GPU machine keeps them; the build found cuDNN there
# or in the toolkit) and the PyTorch peer, for every phase: a rerun may leave out prereqs.
for package in cudnn cublas; do
  dir=$("$python" -c "import nvidia.$package as m; print(list(m.__path__)[0] + '/lib')" 2>/dev/null)
  [[ -n $dir && -d $dir ]] && export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$dir
done
peer_found=""
for f in ${SWS_PEER:+"$SWS_PEER"} "$root/../shared/peer" "$root/.peer" ${prebuilt:+"$prebuilt/peer"}; do
  [[ -e $f/torch_peer.py ]] && { peer_found=$f; break; }
done
[[ -n $peer_found ]] && export SWS_PEER=$peer_found  # for bench/torch_gpu_peer.py

# --- 1 prerequisites -------------------------------------------------------------------------
cudnn_root=""
phase_prereqs() {
  local missing=() f
  local log_file=$out/prereqs.log
  : >"$log_file"
  note() { echo "$*" | tee -a "$log_file"; }
  need() {  # need LABEL HOW-TO-FIX TEST...
    local label=$1 fix=$2
    shift 2
    if "$@" >/dev/null 2>&1; then note "ok       $label"; else note "MISSING  $label  ($fix)"; missing+=("$label"); fi
  }
  have_file() { [[ -e $1 ]]; }
  have_glob() { compgen -G "$1" >/dev/null; }
  cmake_ok() {
    local v
    v=$(cmake --version 2>/dev/null | head -1 | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?') || return 1
    printf '%s\n%s\n' 3.25 "$v" | sort -V -C
  }
  cmake_config() {  # a package's CMake config file, where Debian and others put them
    have_glob "/usr/share/cmake/$1/*onfig.cmake" || have_glob "/usr/lib/cmake/$1/*onfig.cmake" ||
      have_glob "/usr/lib/x86_64-linux-gnu/cmake/$1/*onfig.cmake" || have_glob "/usr/share/$1/cmake/*onfig.cmake" ||
      have_glob "/usr/local/share/cmake/$1/*onfig.cmake" || have_glob "/usr/local/lib/cmake/$1/*onfig.cmake"
  }
  has_zlib() { [[ -e /usr/include/zlib.h ]] && have_glob "/usr/lib/x86_64-linux-gnu/libz.so"; }
  has_header_and_config() { [[ -e /usr/include/$1 ]] && cmake_config "$2"; }
  has_stb() { [[ -d /usr/include/stb ]] && have_glob "/usr/lib/x86_64-linux-gnu/libstb.so*"; }
  has_mnist() { (($(find "$mnist" -maxdepth 1 -name '*ubyte*' 2>/dev/null | wc -l) >= 4)); }
  need "GPU visible (nvidia-smi -L)" "no NVIDIA driver or no GPU" nvidia-smi -L
  nvidia-smi -L >>"$log_file" 2>&1
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv >>"$log_file" 2>&1
  if [[ -n $prebuilt ]]; then
    need "the pack $prebuilt (bin/sws_cuda_tests, lib/)" "make it with tools/gpu-pack.sh and carry .gpu-pack" \
      test -x "$build/sws_cuda_tests"
    cat "$prebuilt/BUILD_INFO" >>"$log_file" 2>/dev/null
    if git -C "$root" rev-parse --short HEAD >/dev/null 2>&1; then
      local tree
      # The same words as tools/gpu-pack.sh writes on the first line of BUILD_INFO.
      tree="commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD || echo ' + uncommitted changes')"
      need "the pack built from this tree ($tree)" "rerun tools/gpu-pack.sh on the build machine" \
        test "$(head -1 "$prebuilt/BUILD_INFO" 2>/dev/null)" = "$tree"
    fi
  fi
  need "nvcc" "the CUDA toolkit (looked on PATH and in /usr/local/cuda*/bin)" command -v nvcc
  nvcc --version 2>/dev/null | tail -2 >>"$log_file"
  [[ -z $prebuilt ]] && {
  need "cmake >= 3.25 (have: $(cmake --version 2>/dev/null | head -1))" "pip install cmake, or a newer cmake" cmake_ok
  need "C++ compiler (g++)" "apt-get install g++" command -v g++
  need "OpenBLAS, OpenMP build (/usr/include/x86_64-linux-gnu/openblas-openmp/cblas.h)" "apt-get install libopenblas-openmp-dev" \
    have_file /usr/include/x86_64-linux-gnu/openblas-openmp/cblas.h
  need "OpenBLAS library (/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so)" "apt-get install libopenblas-openmp-dev" \
    have_file /usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so
  need "zlib (zlib.h, libz.so)" "apt-get install zlib1g-dev" has_zlib
  need "nlohmann-json (nlohmann/json.hpp + CMake config)" "apt-get install nlohmann-json3-dev" has_header_and_config nlohmann/json.hpp nlohmann_json
  need "CLI11 (CLI/CLI.hpp + CMake config)" "apt-get install libcli11-dev" has_header_and_config CLI/CLI.hpp CLI11
  need "doctest (doctest/doctest.h + CMake config)" "apt-get install doctest-dev" has_header_and_config doctest/doctest.h doctest
  need "libstb (/usr/include/stb, libstb.so)" "apt-get install libstb-dev" has_stb
  }
  # cuDNN: the toolkit's, else the Python package's (its __path__: a namespace package may have
  # no __file__).
  local cuda_home
  cuda_home=$(dirname "$(dirname "$(command -v nvcc 2>/dev/null || echo /usr/local/cuda/bin/nvcc)")")
  if [[ -e $cuda_home/include/cudnn.h ]] && have_glob "$cuda_home/lib*/libcudnn.so*"; then
    note "ok       cuDNN in the CUDA toolkit ($cuda_home)"
  elif [[ -e /usr/include/cudnn.h || -e /usr/include/x86_64-linux-gnu/cudnn.h ]] && have_glob "/usr/lib/x86_64-linux-gnu/libcudnn.so*"; then
    note "ok       cuDNN in /usr"
  else
    cudnn_root=$("$python" -c 'import nvidia.cudnn as m, os; print(list(m.__path__)[0] if getattr(m, "__path__", None) else os.path.dirname(m.__file__))' 2>/dev/null)
    if [[ -n $cudnn_root && ( -n $prebuilt || -e $cudnn_root/include/cudnn.h ) ]] && have_glob "$cudnn_root/lib/libcudnn.so*"; then
      note "ok       cuDNN from the Python package nvidia-cudnn ($cudnn_root)"
    else
      note "MISSING  cuDNN  (neither in the CUDA toolkit nor as $python's package nvidia-cudnn-cu13)"
      missing+=("cuDNN")
      cudnn_root=""
    fi
  fi
  # NCCL (the one-rank allreduce in sws_cuda_tests; opened at run time by its soname): the
  # toolkit's, else the Python package nvidia-nccl's, put on the library path.
  local nccl_dir
  nccl_dir=$(ls -d "$cuda_home"/lib*/libnccl.so.2 2>/dev/null | head -1)
  [[ -z $nccl_dir ]] && nccl_dir=$("$python" -c 'import nvidia.nccl as m; print(list(m.__path__)[0] + "/lib/libnccl.so.2")' 2>/dev/null)
  if [[ -n $nccl_dir && -e $nccl_dir ]]; then
    export LD_LIBRARY_PATH=$(dirname "$nccl_dir")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    note "ok       NCCL ($nccl_dir)"
  else
    note "MISSING  NCCL libnccl.so.2 (neither in the CUDA toolkit nor as $python's package nvidia-nccl-cu13): the NCCL test fails"
  fi
  need "PyTorch with CUDA in $python (for the benchmark's peer)" "the GPU machine's python3 should have it" \
    "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'
  "$python" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version())' >>"$log_file" 2>&1
  need "torch_peer.py (../shared/peer, \$SWS_PEER or .peer/)" \
    "it does not travel with the repository: mkdir -p .peer && cp ../shared/peer/torch_peer.py .peer/ and carry .peer" \
    test -n "$peer_found"
  need "MNIST in $mnist (four *-ubyte[.gz] files)" "set MNIST_DIR, or carry data/mnist" has_mnist
  note "CPU: $(nproc) cores; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  if ((${#missing[@]})); then
    fail prereqs "missing: $(IFS=';'; echo "${missing[*]}")"
    return 1
  fi
}

# --- 2 configure and build --------------------------------------------------------------------
phase_build() {
  if [[ -n $prebuilt ]]; then
    log "prebuilt: $(head -1 "$prebuilt/BUILD_INFO" 2>/dev/null); no build"
    return 0
  fi
  local args=(-S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSWS_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90
              "-DSWS_MNIST_DIR=$mnist")
  [[ -n $cudnn_root ]] && args+=("-DSWS_CUDNN_ROOT=$cudnn_root")
  {
    echo "cmake ${args[*]}"
    cmake "${args[@]}" && cmake --build "$build" -j"$jobs"
  } >"$out/build.log" 2>&1
  local rc=$?
  if ((rc != 0)); then
    tail -30 "$out/build.log"
    fail build "configure or build failed (exit $rc); see build.log"
    return 1
  fi
  tail -3 "$out/build.log"
}

# --- 3 test suites ----------------------------------------------------------------------------
phase_tests() {
  local ok=0 rc
  : >"$out/tests.log"
  if [[ -x $build/sws_cuda_tests ]]; then
    echo "=== sws_cuda_tests" >>"$out/tests.log"
    OMP_NUM_THREADS=2 timeout -k 10 240 "$build/sws_cuda_tests" >>"$out/tests.log" 2>&1
    rc=$?
    tail -4 "$out/tests.log"
    if ((rc == 77)); then fail tests "sws_cuda_tests skipped itself: sws sees no GPU (see tests.log)"; ok=1
    elif ((rc != 0)); then fail tests "sws_cuda_tests exit $rc (124: timed out); see tests.log"; ok=1; fi
  else
    fail tests "build-gpu/sws_cuda_tests was not built"; ok=1
  fi
  if [[ -x $build/sws_tests ]]; then
    echo "=== sws_tests --test-case-exclude=*slow*" >>"$out/tests.log"
    OMP_NUM_THREADS=2 timeout -k 10 240 "$build/sws_tests" '--test-case-exclude=*slow*' >>"$out/tests.log" 2>&1
    rc=$?
    tail -4 "$out/tests.log"
    ((rc != 0)) && { fail tests "sws_tests (CPU suite) exit $rc (124: timed out); see tests.log"; ok=1; }
  else
    fail tests "build-gpu/sws_tests was not built"; ok=1
  fi
  return $ok
}

# --- 4 GPU against CPU training curves --------------------------------------------------------
curves_dir=$build/gpu-check-curves
phase_curves() {
  [[ -x $build/sws ]] || { fail curves "build-gpu/sws was not built"; return 1; }
  rm -rf "$curves_dir"
  timeout -k 10 300 "$root/tests/gpu_cpu_curve_test.sh" "$build/sws" "$mnist" "$curves_dir" >"$out/curves.log" 2>&1
  local rc=$?
  cat "$out/curves.log"
  for d in cuda cpu; do
    [[ -e $curves_dir/$d.log ]] && { echo "=== the --device $d run's log"; cat "$curves_dir/$d.log"; } >>"$out/curves.log"
  done
  python3 - "$curves_dir" "$out/curves-metrics.json" <<'PY' 2>/dev/null
import json, os, sys
both = {}
for d in ("cpu", "cuda"):
    p = os.path.join(sys.argv[1], d, "metrics.json")
    if os.path.exists(p):
        both[d] = json.load(open(p))
json.dump(both, open(sys.argv[2], "w"), indent=1)
PY
  case $rc in
    0) return 0 ;;
    77) fail curves "skipped itself (no GPU, or an sws without the CUDA backend)" ;;
    124) fail curves "timed out after 300 s" ;;
    *) fail curves "GPU and CPU curves disagree or a run failed (exit $rc); see curves.log" ;;
  esac
  return 1
}

# --- 5 benchmark against PyTorch on the GPU ---------------------------------------------------
phase_bench() {
  [[ -x $build/bench_step && -x $build/bench_prior ]] || { fail bench "build-gpu/bench_step or bench_prior was not built"; return 1; }
  REPS=${BENCH_REPS:-20} PRIOR_REPS=${PRIOR_REPS:-10} PYTHON=$python \
    timeout -k 10 300 "$root/bench/compare_gpu.sh" "${BENCH_ROUNDS:-3}" "$build" >"$out/bench.log" 2>&1
  local rc=$?
  grep -v '^{' "$out/bench.log"
  ((rc == 0)) && return 0
  fail bench "bench/compare_gpu.sh exit $rc (77: a side found no GPU; 124: timed out); see bench.log"
  return 1
}

# --- 6 compute-sanitizer ----------------------------------------------------------------------
phase_memcheck() {
  local sanitizer rc ok=0
  sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
  [[ -n $sanitizer ]] || { fail memcheck "compute-sanitizer not found"; return 1; }
  [[ -x $build/sws_cuda_tests ]] || { fail memcheck "sws_cuda_tests was not built"; return 1; }
  : >"$out/memcheck.log"
  for tool in memcheck racecheck; do
    local flags=(--tool "$tool" --error-exitcode 3) cases=('--test-case-exclude=cuda: gradients*')
    # No --leak-check: the cuBLAS and cuDNN handles are left to the driver at exit on purpose.
    [[ $tool == racecheck ]] && cases+=('--test-case=*sum*,*mixture prior*,*softmax*')
    echo "=== compute-sanitizer ${flags[*]} sws_cuda_tests ${cases[*]}" >>"$out/memcheck.log"
    OMP_NUM_THREADS=2 timeout -k 10 150 "$sanitizer" "${flags[@]}" "$build/sws_cuda_tests" "${cases[@]}" \
      >>"$out/memcheck.log" 2>&1
    rc=$?
    tail -3 "$out/memcheck.log"
    ((rc != 0)) && { fail memcheck "$tool exit $rc (3: errors found; 124: timed out); see memcheck.log"; ok=1; }
  done
  return $ok
}

for phase in ${PHASES:-prereqs build tests curves bench memcheck}; do
  if ! declare -F "phase_$phase" >/dev/null; then
    fail "$phase" "no such phase (PHASES takes prereqs build tests curves bench memcheck)"
    continue
  fi
  run_phase "$phase"
  write_summary
done

# summary.md, rewritten after every phase: a run stopped at the device's time limit still
# brings back what it finished.
write_summary() {
total=$(($(date +%s) - script_start))
{
  echo "# GPU check, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  commit="commit unknown (no git checkout)"
  if git -C "$root" rev-parse --short HEAD >/dev/null 2>&1; then
    commit="commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
  fi
  echo "$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no GPU'); $(nproc) CPU cores; $commit"
  echo
  echo "| phase | result | time |"
  echo "|---|---|---|"
  printf '%s\n' "${phase_rows[@]}"
  echo
  echo "Total: ${total} s."
  echo
  if ((${#failures[@]})); then
    echo "## Failures"
    echo
    printf -- '- %s\n' "${failures[@]}"
  else
    echo "All phases passed."
  fi
  echo
  echo "## Prerequisites"
  echo
  echo '```'
  cat "$out/prereqs.log" 2>/dev/null
  echo '```'
  echo
  echo "## GPU against CPU training curves (tests/gpu_cpu_curve_test.sh)"
  echo
  if [[ -e $curves_dir/curves.md ]]; then cat "$curves_dir/curves.md"; else echo "(no table: see curves.log)"; fi
  echo
  echo "## sws against PyTorch on the GPU (bench/compare_gpu.sh)"
  grep -v '^{' "$out/bench.log" 2>/dev/null | grep -v '^round ' || echo "(no tables: see bench.log)"
} >"$summary"
}

write_summary
log "summary: $summary"
printf '%s\n' "${phase_rows[@]}"
log "total ${total} s"
if ((${#failures[@]})); then
  log "${#failures[@]} failure(s):"
  printf '  - %s\n' "${failures[@]}"
  exit 1
fi
log "all phases passed"
