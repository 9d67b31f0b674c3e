#!/usr/bin/env bash
# The test command: installs the build dependencies, fetches MNIST, builds, runs every test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/fetch-mnist.sh"
"$root/scripts/build.sh"
cd "$root/build" && ctest --output-on-failure
