#!/usr/bin/env bash
# Packs the built CLI, the core library, the shipped plugins and the shared libraries they need
# into one folder, so that the CLI runs on a machine without Boost, ICU or simdjson (the device
# machine of tools/numeric_check.py; it needs glibc >= this machine's).
#   tools/device_bundle.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=$1 out=$2
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib/awqmap/plugins"
strip --strip-debug -o "$out/bin/awqmap" "$build/bin/awqmap"
for f in "$build"/lib/libawqmap.so.*.*; do strip --strip-debug -o "$out/lib/$(basename "$f")" "$f"; done
(cd "$out/lib" && for f in libawqmap.so.*.*.*; do ln -sf "$f" libawqmap.so.0; done)
for p in "$build"/lib/awqmap/plugins/awqmap-*.so; do strip --strip-debug -o "$out/lib/awqmap/plugins/$(basename "$p")" "$p"; done
# Every non-system shared library the CLI and the core load (glibc stays the machine's own).
ldd "$build/bin/awqmap" "$build"/lib/libawqmap.so.0 | awk '/=> \//{print $3}' | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libawqmap*) ;;
    *) cp -L "$lib" "$out/lib/" ;;
  esac
done
cat > "$out/awqmap" <<'SH'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")
LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "$here/bin/awqmap" "$@"
SH
chmod +x "$out/awqmap"
du -sh "$out"
