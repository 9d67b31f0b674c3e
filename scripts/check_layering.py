#!/usr/bin/env python3
"""The library's floors, read from the includes: core < autograd < nn < optim < compress < tools
(cuda/ beside core/). No file may include one from a folder above its own; bench/, tests/,
examples/ and fuzz/ use everything. Prints every offending include and exits 1 if there is one.
  python3 scripts/check_layering.py [ROOT]"""
import pathlib
import re
import sys

FLOORS = {"core": 0, "cuda": 0, "autograd": 1, "nn": 2, "optim": 3, "compress": 4, "tools": 5}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


def offences(root):
    for folder, floor in FLOORS.items():
        for path in sorted((root / folder).rglob("*")):
            if path.suffix not in (".h", ".cpp", ".cu", ".cuh"):
                continue
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                match = INCLUDE.match(line)
                if match and FLOORS.get(match.group(1), -1) > floor:
                    yield f"{path.relative_to(root)}:{number}: {folder}/ includes {match.group(1)}/, a floor above it"


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    found = list(offences(root))
    for line in found:
        print(line)
    checked = sum(1 for f in FLOORS for p in (root / f).rglob("*") if p.suffix in (".h", ".cpp", ".cu", ".cuh"))
    print(f"{checked} files checked, {len(found)} include(s) from a floor above")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
