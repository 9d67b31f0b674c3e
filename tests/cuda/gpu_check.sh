#!/usr/bin/env bash
# The CUDA backend's check on a machine with a GPU: configure with the CUDA backend required,
# build for the local GPU only (fast), then run the CUDA suite (every op against the CPU backend)
# and the CPU suite's CUDA-related cases. Usage: tests/cuda/gpu_check.sh [BUILD_DIR] [ARCH]
# (defaults build-gpu and 90; cuDNN from SWS_CUDNN_ROOT or pip's nvidia-cudnn-cu13 is found
# automatically).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-gpu} arch=${2:-90}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
cmake -S "$root" -B "$build" -DSWS_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$arch" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$(nproc)" --target sws_cuda_tests sws_tests
"$build/sws_cuda_tests" --duration=true
"$build/sws_tests" --test-case="*cuda*,*adam_update_many*,*Adam*"
