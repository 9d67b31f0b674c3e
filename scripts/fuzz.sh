#!/usr/bin/env bash
# Fuzzes the file readers: decode_sws (.sws), parse_safetensors and the MNIST IDX reader.
# Builds each libFuzzer target in fuzz/ with clang++ and AddressSanitizer + UndefinedBehaviorSanitizer
# into build-fuzz/, seeds its corpus with valid files (fuzz/make_seeds.cpp), runs it for SECONDS
# (default 30) and prints how many inputs it ran. Exits non-zero if any target crashes; the
# crashing input is left in build-fuzz/artifacts/. Exits 77 (skipped) if clang++ is missing.
#
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail

seconds=${1:-30}
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || { echo "usage: $0 [SECONDS]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/build-fuzz
cxx=${CXX_FUZZ:-clang++}
command -v "$cxx" >/dev/null || { echo "$0: $cxx not found (apt-get install clang); skipped" >&2; exit 77; }

# shellcheck disable=SC2054  # the commas belong to the flag
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
common=(-std=c++17 -O1 -g -I"$root")

# The library sources each target needs (nothing else of sws is linked in).
declare -A sources=(
  [fuzz_sws]="compress/sws_format.cpp compress/sws_tensor_coder.cpp compress/range_coder.cpp core/atomic_file.cpp"
  [fuzz_safetensors]="core/safetensors.cpp core/atomic_file.cpp"
  [fuzz_idx]="core/mnist.cpp"
)
declare -A seeds=([fuzz_sws]=sws [fuzz_safetensors]=safetensors [fuzz_idx]=idx)
targets=(fuzz_sws fuzz_safetensors fuzz_idx)

mkdir -p "$out/artifacts"
cd "$root"
echo "building into $out"
for t in "${targets[@]}"; do
  # shellcheck disable=SC2086  # the source lists are meant to split
  "$cxx" "${common[@]}" "${sanitize[@]}" -fsanitize=fuzzer "fuzz/$t.cpp" ${sources[$t]} -lz -o "$out/$t"
done
"$cxx" "${common[@]}" "${sanitize[@]}" fuzz/make_seeds.cpp compress/sws_format.cpp compress/sws_tensor_coder.cpp \
  compress/range_coder.cpp core/safetensors.cpp core/atomic_file.cpp -lz -o "$out/make_seeds"
rm -rf "$out/seeds"
"$out/make_seeds" "$out/seeds"

status=0
for t in "${targets[@]}"; do
  mkdir -p "$out/corpus/$t"
  log=$out/$t.log
  set +e
  "$out/$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 \
    -artifact_prefix="$out/artifacts/$t-" "$out/corpus/$t" "$out/seeds/${seeds[$t]}" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [[ $rc -eq 0 && -n $runs ]]; then
    echo "$t: $runs executions in ${seconds} s, no crash"
  else
    echo "$t: CRASHED (exit $rc) after ${runs:-?} executions; log: $log, input: $out/artifacts/$t-*" >&2
    grep -m 20 -E "ERROR|SUMMARY|runtime error|Test unit written" "$log" >&2 || tail -n 20 "$log" >&2
    status=1
  fi
done
exit $status
