#!/usr/bin/env bash
# Two builds of sws against each other on the quiet machine: the training step of the three
# models at batch 64 and 256 (bench_step), rounds alternating the two binaries. Prints, per case,
# the median over rounds of each binary's median step time, the range, and new / old.
#   bench/compare_builds.sh OLD_BENCH_STEP NEW_BENCH_STEP [ROUNDS=7] [THREADS=2]
# For example, the last commit's build against the working tree's:
#   git worktree add /tmp/sws-old HEAD && cmake -S /tmp/sws-old -B /tmp/sws-old/build -DSWS_CUDA=OFF \
#     && cmake --build /tmp/sws-old/build --target bench_step -j2
#   bench/compare_builds.sh /tmp/sws-old/build/bench_step build/bench_step 7
set -euo pipefail
old=$1 new=$2 rounds=${3:-7} threads=${4:-2}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= rounds; r++)); do
  echo "round $r/$rounds" >&2
  "$old" --threads "$threads" | sed "s/^{/{\"round\": $r, \"build\": \"old\", /" >>"$out"
  "$new" --threads "$threads" | sed "s/^{/{\"round\": $r, \"build\": \"new\", /" >>"$out"
done
cat "$out"
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
print("\n| model | batch | old median ms (range) | new median ms (range) | new / old |")
print("|---|---|---|---|---|")
for model in ("lenet300", "lenet5", "tutorial"):
    for batch in (64, 256):
        def side(b):
            return [r["median_s"] * 1e3 for r in rows if (r["build"], r["model"], r["batch"]) == (b, model, batch)]
        o, n = side("old"), side("new")
        if not o or not n:
            continue
        om, nm = statistics.median(o), statistics.median(n)
        print(f"| {model} | {batch} | {om:.2f} ({min(o):.2f}-{max(o):.2f}) | {nm:.2f} ({min(n):.2f}-{max(n):.2f}) | {nm / om:.3f} |")
PY
