"""libawqmap.so exports its public API only: the C API (awqmap_*: embedding, awqmap.h, and the
plugin contract, plugin.h) and the awqmap:: names that the public headers declare (with their
type information and virtual tables), nothing of awqmap::detail, anonymous namespaces, the
standard library, Boost, simdjson or ICU, nor the plugin-side C++ layer (awqmap::plugin,
awqmap::toolkit), which compiles into each plugin instead. The public headers themselves
include nothing of nlohmann, Boost or simdjson: an embedder or a plugin compiles against the
standard library and awqmap's own headers only (internals live in core/src, not installed).

  exported_symbols_check.py LIBAWQMAP INCLUDE_DIR
"""
import pathlib
import re
import subprocess
import sys

lib, include = sys.argv[1], pathlib.Path(sys.argv[2]) / "awqmap"
header_files = sorted(include.glob("*.h*"))
if not header_files:
    sys.exit(f"FAIL: no public header in {include}")
headers = "\n".join(p.read_text() for p in header_files)

bad = []
third_party = re.compile(r"^[ \t]*#[ \t]*include[ \t]*[<\"][ \t]*(nlohmann|boost|simdjson)\b", re.IGNORECASE | re.MULTILINE)
for p in header_files:
    for m in third_party.finditer(p.read_text()):
        line = p.read_text().count("\n", 0, m.start()) + 1
        bad.append(f"{p.name}:{line} includes {m.group(1)} (a public header must not; move the code to core/src)")

header_words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", headers))

out = subprocess.run(["nm", "-D", "--defined-only", "--demangle", lib], capture_output=True, text=True, check=True).stdout
symbols = [line.split(" ", 2)[2] for line in out.splitlines() if line.count(" ") >= 2]
if not symbols:
    sys.exit(f"FAIL: nm lists no defined dynamic symbol in {lib}")

for s in symbols:
    if re.fullmatch(r"awqmap_[a-z0-9_]+", s):
        if s not in header_words:
            bad.append(f"{s} (a C function that awqmap/awqmap.h or awqmap/plugin.h does not declare)")
        continue
    name = re.sub(r"^(typeinfo name for|typeinfo for|vtable for) ", "", s)
    if (not name.startswith("awqmap::") or "detail::" in s or "anonymous namespace" in s or "{lambda" in s
            or name.startswith(("awqmap::plugin::", "awqmap::toolkit::"))):
        bad.append(s)
        continue
    # The qualified name without parameters: every component must be a word of the public headers.
    qualified = re.sub(r"\[abi:[^\]]*\]", "", name.split("(", 1)[0])
    for part in qualified.split("::"):
        if part.lstrip("~") not in header_words:
            bad.append(f"{s} ('{part}' is not declared in a public header)")
            break

for required in ("awqmap_resolve", "awqmap_error_message", "awqmap_registrar_add_static", "awqmap_build_add_mapping",
                 "awqmap_model_view_find", "awqmap_config_next"):
    if required not in symbols:
        bad.append(f"{required} is not exported (the C API is missing)")
if not any(s.startswith("awqmap::resolve(") for s in symbols):
    bad.append("awqmap::resolve is not exported (the C++ API is missing)")
if not any(s == "typeinfo for awqmap::InputError" for s in symbols):
    bad.append("typeinfo for awqmap::InputError is not exported: callers could not catch the core's errors")

if bad:
    print(f"FAIL: {lib} exports {len(bad)} symbol(s) outside the public API, or a public header includes a "
          "third-party library; hide them (internals stay without AWQMAP_API; core/src/libawqmap.map limits the "
          "rest):", file=sys.stderr)
    for b in bad[:50]:
        print("  " + b, file=sys.stderr)
    sys.exit(1)
print(f"{len(symbols)} exported symbols, all public API; {len(header_files)} public headers without nlohmann, "
      "Boost or simdjson")
