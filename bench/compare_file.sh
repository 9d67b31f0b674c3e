#!/usr/bin/env bash
# The real compressed file against its baselines, for each run folder given (a finished
# `sws run`): model.sws; the paper-style accounting (metrics.json); zstd -19 and xz -9 of the
# quantised dense safetensors file; the empirical order-0 entropy bound of positions and values
# (plus the 32-bit codebooks); encode and decode speed (bench_codec). Rates are 4 bytes x
# parameters / bytes. Run from the repository root after ./scripts/build.sh.
#   bench/compare_file.sh runs/lenet300 runs/lenet5
set -euo pipefail
for tool in zstd xz python3; do command -v $tool >/dev/null || { echo "$0: needs $tool" >&2; exit 1; }; done
printf "| model | test error | parameters | .sws bytes | .sws rate | paper accounting | zstd -19 | xz -9 | order-0 entropy bound | encode MB/s | decode MB/s |\n"
printf "|---|---|---|---|---|---|---|---|---|---|---|\n"
for run in "$@"; do
  q=$run/quantized.safetensors
  [[ -f $run/model.sws ]] || ./build/sws compress "$run" -o "$run/model.sws" >/dev/null
  zstd_bytes=$(zstd -19 -q -c "$q" | wc -c)
  xz_bytes=$(xz -9 -c "$q" | wc -c)
  speed=$(./build/bench_codec --reps 20 "$q" | python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
m = [r for r in rows if 'encode_mb_s' in r][-1]
print(m['encode_mb_s'], m['decode_mb_s'])")
  ./build/sws inspect "$run/model.sws" --json | python3 -c "
import json, sys
j = json.load(sys.stdin)
m = json.load(open('$run/metrics.json'))
p = j['parameters']
bound = sum(t['position_entropy_bits'] + t['value_entropy_bits'] + 32 * t['distinct'] for t in j['tensors']) / 8
rate = lambda b: '%.1fx (%d B)' % (4 * p / b, b)
enc, dec = '$speed'.split()
print('| %s | %.2f%% | %d | %d | **%.1fx** | %.1fx (%d B) | %s | %s | %s | %.0f | %.0f |' % (
    m['model'], 100 * (1 - m['quantized']['test_accuracy']), p, j['file_bytes'], 4 * p / j['file_bytes'],
    m['compression']['paper_rate'], m['compression']['paper_bits'] / 8, rate($zstd_bytes), rate($xz_bytes),
    rate(bound), float(enc), float(dec)))"
done
