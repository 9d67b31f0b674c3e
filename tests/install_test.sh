#!/usr/bin/env bash
# Installs sws from a build folder into a temporary prefix, builds examples/custom_model and
# examples/custom_op against it with find_package(sws) as an outside project would, and runs them
# on real MNIST digits.
# Usage: tests/install_test.sh BUILD_DIR MNIST_DIR
set -euo pipefail
build=$1 data=$2
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in include/sws/core/tensor.h include/sws/compress/gaussian_mixture_prior.h include/sws/compress/pipeline.h \
         include/sws/optim/training_loop.h include/sws/optim/console_observer.h lib/libsws.a \
         lib/cmake/sws/swsConfig.cmake bin/sws share/sws/sweep.py; do
  [[ -e $tmp/prefix/$f ]] || { echo "FAIL: install lacks $f"; exit 1; }
done
# The installed sws sweep runs the installed driver (where Debian's optuna is there to run it).
if /usr/bin/python3 -c "import optuna" 2>/dev/null; then
  "$tmp/prefix/bin/sws" sweep --help | grep -q "usage: sws sweep" || { echo "FAIL: the installed sws sweep"; exit 1; }
fi
for example in custom_model custom_op; do
  cmake -S "$root/examples/$example" -B "$tmp/$example" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
    -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$tmp/$example" -j2 >/dev/null
done
# The one-call pipeline on the user's MLP (exit 0: the .sws read back scores what was reported).
# Exit 0, or 3 when post-processing cost more than allowed (the file is then FAILED-model.sws).
rc=0
"$tmp/custom_model/custom_model" "$data" "$tmp/mlp-run" 4000 >"$tmp/custom_model.log" 2>&1 || rc=$?
[[ $rc == 0 || $rc == 3 ]] || { echo "FAIL: examples/custom_model (exit $rc): $(tail -2 "$tmp/custom_model.log")"; exit 1; }
grep -E "read back|model.sws:" "$tmp/custom_model.log"
"$tmp/prefix/bin/sws" inspect "$(ls "$tmp"/mlp-run/*model.sws)" | grep -q "mlp-784-128-64-10" \
  || { echo "FAIL: sws inspect on the one-call pipeline's file"; exit 1; }
# The lower level: an op of one's own and the stages written out by hand.
"$tmp/custom_op/custom_op" "$data" 10000 "$tmp/custom.sws"
# A .sws file of an architecture the sws command does not know: inspect and decompress read it,
# eval says it needs the model's code.
"$tmp/prefix/bin/sws" inspect "$tmp/custom.sws" | grep -q "tanhnet-784-100-10" \
  || { echo "FAIL: sws inspect on a custom architecture"; exit 1; }
"$tmp/prefix/bin/sws" decompress "$tmp/custom.sws" -o "$tmp/custom.safetensors" | grep -q "79510 parameters" \
  || { echo "FAIL: sws decompress on a custom architecture"; exit 1; }
out=$("$tmp/prefix/bin/sws" eval "$tmp/custom.sws" --data "$data" 2>&1) && { echo "FAIL: eval accepted an unknown architecture"; exit 1; }
grep -q "evaluating it needs the model's code" <<<"$out" || { echo "FAIL: eval on an unknown architecture said: $out"; exit 1; }
echo "PASS: sws inspect and decompress read a custom architecture's .sws; eval says it needs the model's code"
# A library user computes on sws's thread pool and on nothing else: tests/probe built against the
# install reports threads-1 pool workers, no other thread, and OpenBLAS single-threaded.
cmake -S "$root/tests/probe" -B "$tmp/probe" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/probe" -j2 >/dev/null
report=$(OMP_NUM_THREADS=2 "$tmp/probe/runtime_probe" | tr '\n' ' ')
[[ $report == "threads 2 (OMP_NUM_THREADS) workers 1 others 0 blas_threads 1 " ]] \
  || { echo "FAIL: the installed library's user reports: $report"; exit 1; }
echo "PASS: a program built against the install computes on sws's pool alone ($report)"
echo "PASS: outside projects found sws, linked sws::sws and trained and compressed their own models (one call, and by hand)"
