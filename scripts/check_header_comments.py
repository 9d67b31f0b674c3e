#!/usr/bin/env python3
"""Lists public declarations in the installed headers that have no comment.

The installed public headers are every .h under core/, autograd/, nn/, optim/ and compress/
(CMakeLists.txt's install rules). A declaration at namespace scope, or in a public or protected
section of a class or struct (a struct starts public, a class private), counts as commented when
  - its first line carries a trailing // comment, or
  - the contiguous // comment block directly above it is not a section banner ("// --- x ---"), or
  - it belongs to a group: declarations on consecutive lines (no blank line, no other scope in
    between) of which the first has such a comment block directly above it.
Skipped: private sections, function and enum bodies, preprocessor lines (and their continuations),
access specifiers, closing braces, namespaces, using-declarations and aliases, forward
declarations, destructors, deleted functions and overrides (the base class documents those).

A heuristic that reads lines, not a C++ parser: it understands the style of these headers.
Usage: scripts/check_header_comments.py [ROOT] [--skip PATH ...]
Prints one line per declaration lacking a comment and exits 1 if there is any, 0 otherwise.
"""
import argparse
import os
import re
import sys

FOLDERS = ["core", "autograd", "nn", "optim", "compress", "cuda"]
# Headers reviewed separately (the backend interface is being reworked).
DEFAULT_SKIP = []

ACCESS = re.compile(r"^(public|private|protected)\s*:")
FORWARD_DECL = re.compile(r"^(class|struct|union)\s+\w+\s*;")
CLASS_HEAD = re.compile(r"^(template\s*<[^>]*>\s*)?(class|struct|union)\s+\w+[^;(]*\{")
ENUM_HEAD = re.compile(r"^enum\b")
BANNER = re.compile(r"^//\s*-{3}")


def split_comment(line):
    """Returns (code, comment) with string and char literals blanked in code."""
    code = []
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in "\"'":
            quote = c
            code.append(quote)
            i += 1
            while i < n and line[i] != quote:
                i += 2 if line[i] == "\\" else 1
            code.append(quote)
            i += 1
        elif line.startswith("//", i):
            return "".join(code).rstrip(), line[i:].strip()
        else:
            code.append(c)
            i += 1
    return "".join(code).rstrip(), ""


class Scope:
    def __init__(self, kind, access="public"):
        self.kind = kind  # "ns", "class" or "skip"
        self.access = access

    def checked(self):
        return self.kind == "ns" or (self.kind == "class" and self.access != "private")


def check_file(path, rel):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    # Per line: "blank", "comment", "banner", ("decl", scope id) for a checked declaration line
    # (first line and continuation lines alike), or "other".
    kind = ["other"] * len(lines)
    missing = []
    stack = [Scope("ns")]
    in_macro = False
    continuing = False  # inside a statement that began on an earlier line
    statement = ""      # the statement so far (for deciding what a '{' opens)
    paren = 0
    statement_scope = None

    def overrides(i):
        """True when the declaration starting at line i overrides a virtual: the base documents it."""
        text = ""
        for line in lines[i:i + 8]:
            text += " " + split_comment(line.strip())[0]
            if ";" in line or "{" in line:
                break
        return re.search(r"\boverride\b", text) is not None

    def covered(i):
        """True when a comment block directly above line i covers it (directly or as a group)."""
        sid = id(stack[-1])
        j = i - 1
        while j >= 0:
            k = kind[j]
            if k == "comment":
                return True
            if k == "banner" or k == "blank" or k == "other":
                return False
            if k[0] == "decl" and k[1] == sid:
                j -= 1
                continue
            return False
        return False

    for i, raw in enumerate(lines):
        stripped = raw.strip()
        if in_macro:
            in_macro = stripped.endswith("\\")
            continue
        if stripped.startswith("#"):
            in_macro = stripped.endswith("\\")
            continue
        if not stripped:
            kind[i] = "blank"
            continue
        code, comment = split_comment(stripped)
        if not code:
            if stripped.startswith("/*") or stripped.startswith("*"):
                kind[i] = "comment"
            else:
                kind[i] = "banner" if BANNER.match(comment) else "comment"
            continue

        top = stack[-1]
        starting = not continuing
        if starting:
            statement = ""
            paren = 0
            statement_scope = top
        statement += " " + code

        if top.kind != "skip" and starting:
            m = ACCESS.match(code)
            if m and top.kind == "class":
                top.access = m.group(1)
                kind[i] = "other"
                code_rest = code[m.end():].strip()
                if not code_rest:
                    continue
            elif top.checked():
                kind[i] = ("decl", id(top))
                exempt = (
                    code.startswith("}")
                    or code.startswith("namespace")
                    or code.startswith("using ")
                    or FORWARD_DECL.match(code)
                    or re.match(r"^(virtual\s+)?~", code)
                    or re.search(r"=\s*delete\s*;", code)
                    or code in ("{", "};")
                    or overrides(i)
                )
                if code.startswith("}") or code.startswith("namespace"):
                    kind[i] = "other"
                if not exempt and not comment and not covered(i):
                    missing.append((rel, i + 1, stripped))
        elif top.checked() and not starting and statement_scope is top:
            kind[i] = ("decl", id(top))

        # Track parentheses and braces to know where statements and scopes end.
        for c in code:
            if c == "(":
                paren += 1
            elif c == ")":
                paren -= 1
            elif c == "{":
                head = statement.strip()
                if stack[-1].kind == "skip":
                    stack.append(Scope("skip"))
                elif head.startswith("namespace") or head.startswith('extern "C"'):
                    stack.append(Scope("ns"))
                elif CLASS_HEAD.match(head) and paren == 0:
                    is_struct = re.match(r"^(template\s*<[^>]*>\s*)?(struct|union)", head)
                    stack.append(Scope("class", "public" if is_struct else "private"))
                else:
                    stack.append(Scope("skip"))
                statement = ""
            elif c == "}":
                if len(stack) > 1:
                    stack.pop()
                statement = ""
        last = code.rstrip()[-1]
        template_line = re.match(r"^template\s*<.*>$", code.strip()) is not None
        continuing = not (paren <= 0 and last in ";{}:" and not template_line)
    return missing


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("root", nargs="?", default=os.path.join(os.path.dirname(__file__), ".."))
    ap.add_argument("--skip", nargs="*", default=DEFAULT_SKIP,
                    help="headers (relative to ROOT) not to check; default: %(default)s")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    skip = set(args.skip)
    headers = []
    for folder in FOLDERS:
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for name in files:
                if name.endswith(".h"):
                    full = os.path.join(dirpath, name)
                    rel = os.path.relpath(full, root)
                    if rel not in skip:
                        headers.append((full, rel))
    headers.sort(key=lambda h: h[1])
    missing = []
    for full, rel in headers:
        missing += check_file(full, rel)
    for rel, line, text in missing:
        print(f"{rel}:{line}: declaration without a comment: {text}")
    print(f"{len(headers)} headers checked, {len(missing)} declaration(s) without a comment"
          + (f" (skipped: {', '.join(sorted(skip))})" if skip else ""))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
