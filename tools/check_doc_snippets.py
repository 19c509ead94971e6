#!/usr/bin/env python3
"""Compiles every C++ and C code block of the docs, so that a snippet a reader copies builds.

    tools/check_doc_snippets.py --cxx c++ --cc cc -I core/include [-I ...] FILE.md ...

A block fenced with ```cpp (or ```c) that defines a whole translation unit (it has a
`main`, an `AWQMAP_PLUGIN(...)` or `AWQMAP_PLUGIN_ENTRY(...)` entry, or only declarations) is compiled as it is. A block of
statements (it does not start with `#include` or a declaration) is compiled inside a function
that receives `const std::string& path` (or `const char* path` in C), after the block's own
`#include` lines. A block fenced with ```cpp no-compile is skipped (say why next to it).
Compilation is -fsyntax-only, warnings as errors. Exit 1 with every failing block named by file
and line.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```(cpp|c\+\+|c)(\s+no-compile)?\s*$")
TOP_LEVEL = re.compile(r"^\s*(#|namespace\b|static\b|struct\b|class\b|int main\b|extern\b|using\b|template\b|"
                       r"const\b|constexpr\b|inline\b|void\b|AWQMAP_PLUGIN(_ENTRY)?\b|//|$)")


def blocks(path):
    """(line, language, text) of every compiled block of a Markdown file."""
    out, lang, start, body, skip = [], None, 0, [], False
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if lang is None:
                m = FENCE.match(line.rstrip("\n"))
                if m:
                    lang, start, body, skip = ("c" if m.group(1) == "c" else "cpp"), n, [], bool(m.group(2))
            elif line.startswith("```"):
                if not skip:
                    out.append((start, lang, "".join(body)))
                lang = None
            else:
                body.append(line)
    return out


def translation_unit(lang, text):
    lines = text.splitlines()
    if all(TOP_LEVEL.match(l) or l.startswith((" ", "}", "\t")) for l in lines):
        return text  # a whole translation unit already
    includes = [l for l in lines if l.startswith("#include")]
    statements = [l for l in lines if not l.startswith("#include")]
    if lang == "c":
        head = ["#include <stddef.h>", "#include <stdio.h>"]
        return "\n".join(head + includes + ["void snippet(const char* path) {", "(void)path;"] + statements
                         + ["}", ""])
    head = ["#include <string>", "#include <iostream>"]
    return "\n".join(head + includes + ["void snippet(const std::string& path) {", "(void)path;"] + statements
                     + ["}", ""])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cxx", default="c++")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("-I", dest="includes", action="append", default=[])
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()
    failed, count = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for md in a.files:
            for line, lang, text in blocks(md):
                count += 1
                src = os.path.join(tmp, f"snippet{count}.{'c' if lang == 'c' else 'cpp'}")
                with open(src, "w", encoding="utf-8") as f:
                    f.write(translation_unit(lang, text))
                cmd = ([a.cc, "-std=c99"] if lang == "c" else [a.cxx, "-std=c++17"]) + \
                    ["-fsyntax-only", "-Wall", "-Wextra", "-Werror"] + [f"-I{i}" for i in a.includes] + [src]
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode:
                    failed.append(f"{md}:{line}: the {lang} block does not compile:\n{p.stderr.strip()[:3000]}")
    for f in failed:
        print(f, file=sys.stderr)
    print(f"{count - len(failed)} of {count} code blocks compile")
    return 1 if failed or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
