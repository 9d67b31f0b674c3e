#!/usr/bin/env bash
# Prepares, on this machine (CUDA toolkit, Debian's -dev packages, no GPU), everything that
# tools/gpu-check.sh needs on a lent GPU machine, which has nvcc, PyTorch and pip's cuDNN but
# none of Debian's -dev packages and nothing to fetch them with, and whose minutes are few:
#   .gpu-pack/bin   sws, sws_tests, sws_cuda_tests, bench_step, bench_prior: a Release CUDA build
#                   for sm_90 (H100/H200) and sm_80, with portable x86-64-v3 host code (AVX2 + FMA,
#                   not this machine's -march=native), MNIST looked for in data/mnist (relative)
#   .gpu-pack/lib   the shared libraries those need beyond glibc, libstdc++ and cuDNN:
#                   OpenBLAS (OpenMP build), libgfortran, libquadmath, libgomp, libstb, zlib, libcudart
#   .gpu-pack/peer  torch_peer.py (../shared/peer does not travel with the repository)
#   .gpu-pack/BUILD_INFO  commit, compiler, CUDA and cuDNN versions of the build
# and the same folder as .gpu-pack.tar.xz (7.5 MB; the folder is 56 MB, most of it
# OpenBLAS, too much for the device tool's 64 MiB working tree). Then, with the device tool:
# carry [".gpu-pack.tar.xz", "data/mnist"] and run
#   PREBUILT=.gpu-pack.tar.xz tools/gpu-check.sh
# which unpacks it, skips the build and uses these (cuDNN and cuBLAS come from the GPU machine).
# Usage: tools/gpu-pack.sh [BUILD_DIR=build-gpu-pack]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-gpu-pack}
pack=$root/.gpu-pack
peer=${SWS_PEER:-$root/../shared/peer}
cd "$root"

[[ -e $peer/torch_peer.py ]] || { echo "gpu-pack: no torch_peer.py in $peer (set SWS_PEER)" >&2; exit 1; }
for ignored in /.gpu-pack/ /.gpu-pack.tar.xz; do
  grep -qxF "$ignored" .git/info/exclude 2>/dev/null || echo "$ignored" >>.git/info/exclude
done

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSWS_CUDA=ON -DSWS_NATIVE=OFF \
  -DCMAKE_CXX_FLAGS=-march=x86-64-v3 -DCMAKE_CUDA_ARCHITECTURES="80;90" -DSWS_MNIST_DIR:STRING=data/mnist >/dev/null
cmake --build "$build" -j"$(nproc)" --target sws sws_tests sws_cuda_tests bench_step bench_prior

rm -rf "$pack"
mkdir -p "$pack/bin" "$pack/lib" "$pack/peer"
bins=(sws sws_tests sws_cuda_tests bench_step bench_prior)
for b in "${bins[@]}"; do cp "$build/$b" "$pack/bin/"; done
cp "$peer/torch_peer.py" "$pack/peer/"

# "name path" of every library the binaries load, with LD_LIBRARY_PATH as given; "not found"
# as the path of one that is missing.
loaded() {
  for b in "${bins[@]}"; do ldd "$pack/bin/$b"; done |
    awk '$2 == "=>" {print $1, ($3 ~ /^\// ? $3 : "not-found")}' | sort -u
}
# The GPU machine's own: the C library's, libstdc++/libgcc (newer ones are compatible) and cuDNN
# (pip's there, found by gpu-check.sh). Everything else goes into the pack.
from_system() {
  case $1 in
    libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|ld-linux*|libstdc++.so.*|libgcc_s.so.*|libcudnn*) return 0 ;;
  esac
  return 1
}
loaded | while read -r name path; do from_system "$name" || cp -L "$path" "$pack/lib/$name"; done
# With the pack on the library path, every other library must now come from the pack.
stray=$(LD_LIBRARY_PATH=$pack/lib loaded | while read -r name path; do
  from_system "$name" || [[ $path == "$pack/lib/$name" ]] || echo "$name ($path)"; done)
[[ -z $stray ]] || { echo "gpu-pack: libraries not taken from the pack: $stray" >&2; exit 1; }

{
  echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' + uncommitted changes')"
  echo "built $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n)"
  g++ --version | head -1
  nvcc --version | tail -2 | head -1
  grep -m1 'SWS_CUDNN_LIBRARY:' "$build/CMakeCache.txt"
  echo "libraries: $(cd "$pack/lib" && echo *)"
} >"$pack/BUILD_INFO"
cat "$pack/BUILD_INFO"
tar -cJf "$root/.gpu-pack.tar.xz.tmp" -C "$root" .gpu-pack && mv "$root/.gpu-pack.tar.xz.tmp" "$root/.gpu-pack.tar.xz"
du -sh "$pack" "$root/.gpu-pack.tar.xz"
