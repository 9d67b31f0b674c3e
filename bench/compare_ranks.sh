#!/usr/bin/env bash
# Data parallelism on this machine: training images per second of one `sws run` epoch per stage
# (1 pretraining and 1 retraining epoch on 12,000 images, test set off) for the three models,
# in three placements, alternating within each round:
#   1x1  one process, one thread            2x1  mpirun -np 2, one thread per rank
#   1x2  one process, two threads
# Prints one JSON line per run (model, placement, stage, images/s, the epoch's seconds, the
# seconds inside the gradient allreduce and the bytes it moves per step) and then the medians:
# 2x1 / 1x1 (what a second rank buys), 2x1 / 1x2 (ranks against threads for the same two cores)
# and the share of a 2-rank step spent in communication.
#   bench/compare_ranks.sh [SWS=build/sws] [ROUNDS=3] [MNIST_DIR=data/mnist] > bench/results/ranks.jsonl
set -euo pipefail
sws=${1:-build/sws} rounds=${2:-3} data=${3:-data/mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpi=(mpirun --oversubscribe -np 2 --bind-to none -x OMP_NUM_THREADS=1)
(( $(id -u) == 0 )) && mpi+=(--allow-run-as-root)
for round in $(seq 1 "$rounds"); do
  for model in lenet300 lenet5 tutorial; do
    for placement in 1x1 2x1 1x2; do
      out=$tmp/$model-$placement
      args=(run --model "$model" --pretrain-epochs 1 --retrain-epochs 1 --retrain-rule fixed --max-drop 1
            --train-limit 12000 --no-test --no-figures --data "$data" --out "$out")
      case $placement in
        1x1) OMP_NUM_THREADS=1 "$sws" "${args[@]}" --threads 1 >/dev/null 2>&1 || true ;;
        1x2) OMP_NUM_THREADS=2 "$sws" "${args[@]}" --threads 2 >/dev/null 2>&1 || true ;;
        2x1) "${mpi[@]}" "$sws" "${args[@]}" --threads 1 >/dev/null 2>&1 || true ;;
      esac
      python3 - "$out/metrics.json" "$round" "$model" "$placement" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for stage in ("pretrained", "retrained"):
    e = m[stage]["epochs"][0]
    images = m[stage]["settings"]["train_images"]
    print(json.dumps({"round": int(sys.argv[2]), "model": sys.argv[3], "placement": sys.argv[4], "stage": stage,
                      "images_per_second": round(images / e["train_seconds"], 1), "train_seconds": e["train_seconds"],
                      "allreduce_seconds": e.get("allreduce_seconds", 0.0),
                      "allreduce_bytes_per_step": e.get("allreduce_bytes_per_step", 0),
                      "batch": m[stage]["settings"]["batch"]}))
PY
      rm -rf "$out"
    done
  done
done | tee "$tmp/rows"
python3 - "$tmp/rows" <<'PY' >&2
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def pick(model, placement, stage, rnd):
    return next(r for r in rows if r["model"] == model and r["placement"] == placement and r["stage"] == stage and r["round"] == rnd)
for model in ("lenet300", "lenet5", "tutorial"):
    for stage in ("pretrained", "retrained"):
        rounds = sorted({r["round"] for r in rows})
        ips = {p: [pick(model, p, stage, k)["images_per_second"] for k in rounds] for p in ("1x1", "2x1", "1x2")}
        two_one = [a / b for a, b in zip(ips["2x1"], ips["1x1"])]
        two_threads = [a / b for a, b in zip(ips["2x1"], ips["1x2"])]
        comm = [pick(model, "2x1", stage, k)["allreduce_seconds"] / pick(model, "2x1", stage, k)["train_seconds"] for k in rounds]
        nbytes = pick(model, "2x1", stage, rounds[0])["allreduce_bytes_per_step"]
        print(f"{model:8s} {stage:10s} img/s 1x1 {statistics.median(ips['1x1']):7.0f}  2x1 {statistics.median(ips['2x1']):7.0f}"
              f"  1x2 {statistics.median(ips['1x2']):7.0f} | 2x1/1x1 {statistics.median(two_one):.2f} ({min(two_one):.2f}-{max(two_one):.2f})"
              f"  2x1/1x2 {statistics.median(two_threads):.2f} ({min(two_threads):.2f}-{max(two_threads):.2f})"
              f" | allreduce {100 * statistics.median(comm):.1f}% of the 2-rank epoch, {nbytes} B/step")
PY
