#!/usr/bin/env bash
# Installs what sws builds with, from Debian's archive (skips what is already there).
set -euo pipefail
# dataset-fashion-mnist: Fashion-MNIST's four IDX files in /usr/share/datasets/fashion-mnist (31 MB),
# the second dataset of the quantisation-gap benchmark (bench/gap_study.sh); no test needs it.
# python3-optuna: the search engine of `sws sweep` (tools/sweep.py, run by /usr/bin/python3).
# libopenmpi-dev, openmpi-bin: data-parallel training under mpirun (SWS_MPI; CTest `mpi`).
packages=(build-essential cmake libopenblas-openmp-dev doctest-dev libcli11-dev nlohmann-json3-dev
          libstb-dev fonts-dejavu-core zlib1g-dev clang libclang-rt-14-dev curl ca-certificates python3 gzip
          dataset-fashion-mnist python3-optuna libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=(); [[ $(id -u) == 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
