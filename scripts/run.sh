#!/usr/bin/env bash
# The main job: installs the build dependencies, fetches MNIST, builds, and
# runs the whole pipeline on LeNet-5-Caffe into runs/lenet5 (extra arguments go to `sws run`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/fetch-mnist.sh"
"$root/scripts/build.sh"
cd "$root"
./build/sws run --model lenet5 --data data/mnist --out runs/lenet5 "$@"
