"""A model, not a measurement: how a data-parallel step would scale to 8, 64 and 512 ranks on
10 and 100 Gbit/s networks, from the one-rank step time and the allreduce bytes per step that
bench/compare_ranks.sh measured on this machine.

  compute(N) = t1 / N                       the global batch and the prior split N ways
  ring(N)    = 2 (N - 1) / N x S / bandwidth + 2 (N - 1) x latency
  step(N)    = compute(N) + ring(N)         no overlap of communication with the backward pass
  speed-up   = t1 / step(N)

t1 is the median one-rank, one-thread epoch time divided by its steps, S the bytes per step.
Latencies: 30 us per message on 10 Gbit/s (TCP), 5 us on 100 Gbit/s (RDMA). The batch stays the
preset's, so at N ranks each rank holds batch / N examples; sws refuses a run whose epoch ends in
a batch of fewer images than ranks, and the model does the same for the main job's 54,000
training images (last batches: 48 at batch 64, 240 at batch 256). Prints a Markdown table.

Usage: /usr/bin/python3 bench/scaling_model.py bench/results/ranks.jsonl
"""
import json
import math
import statistics
import sys

NETWORKS = (("10 Gbit/s", 10e9 / 8, 30e-6), ("100 Gbit/s", 100e9 / 8, 5e-6))
RANKS = (2, 8, 64, 512)
TRAIN_IMAGES = 54000  # full MNIST less the 10% validation split


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    print("| model, stage (batch) | t1 per step | bytes per step | "
          + " | ".join(f"{net} N={n}" for net, _, _ in NETWORKS for n in RANKS) + " |")
    print("|---|---|---|" + "---|" * (len(NETWORKS) * len(RANKS)))
    for model in ("lenet300", "lenet5", "tutorial"):
        for stage in ("pretrained", "retrained"):
            one = [r for r in rows if r["model"] == model and r["stage"] == stage and r["placement"] == "1x1"]
            two = [r for r in rows if r["model"] == model and r["stage"] == stage and r["placement"] == "2x1"]
            if not one or not two:
                continue
            batch = one[0]["batch"]
            images = one[0]["images_per_second"] * one[0]["train_seconds"]
            steps = math.ceil(images / batch)
            t1 = statistics.median(r["train_seconds"] for r in one) / steps
            size = two[0]["allreduce_bytes_per_step"]
            cells = []
            for _, bandwidth, latency in NETWORKS:
                for n in RANKS:
                    last_batch = TRAIN_IMAGES % batch or batch
                    if last_batch < n:
                        cells.append("refused")
                        continue
                    step = t1 / n + 2 * (n - 1) / n * size / bandwidth + 2 * (n - 1) * latency
                    cells.append(f"{t1 / step:.1f}x")
            name = {"pretrained": "pretraining", "retrained": "retraining"}[stage]
            print(f"| {model}, {name} ({batch}) | {1e3 * t1:.2f} ms | {size / 1e6:.2f} MB | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
