#!/usr/bin/env python3
"""docs/GUIDE.md shows examples/custom_model/main.cpp whole: the fenced block after the line
"<!-- listing: examples/custom_model/main.cpp -->" must equal that file byte for byte (the
suite compiles and runs the file, so the GUIDE's program is known to build and work).
  python3 scripts/check_guide_listing.py [ROOT]"""
import pathlib
import sys


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    guide = (root / "docs/GUIDE.md").read_text().splitlines(keepends=True)
    found = 0
    for i, line in enumerate(guide):
        if not line.startswith("<!-- listing: "):
            continue
        path = line[len("<!-- listing: "):].split(" -->")[0].strip()
        assert guide[i + 1].startswith("```"), f"GUIDE.md:{i + 2}: the listing of {path} must start with ```"
        end = next(j for j in range(i + 2, len(guide)) if guide[j].startswith("```"))
        shown = "".join(guide[i + 2:end])
        actual = (root / path).read_text()
        if shown != actual:
            print(f"GUIDE.md:{i + 3}: the listing differs from {path}; paste the file into the GUIDE")
            return 1
        found += 1
    if found == 0:
        print("GUIDE.md has no listing of examples/custom_model/main.cpp")
        return 1
    print(f"{found} listing(s) equal to their files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
