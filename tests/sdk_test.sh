#!/usr/bin/env bash
# The SDK as users meet it: install awqmap into a temporary prefix, build the out-of-tree
# plugin and the embedding example against the installed package, move the prefix, and use
# everything from the new place.
#   sdk_test.sh BUILD_DIR SOURCE_DIR [CXX_FLAGS] [LINKER_FLAGS]
set -euo pipefail
build=$1 src=$2 cxxflags=${3:-} ldflags=${4:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cmake_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS=$cxxflags" "-DCMAKE_EXE_LINKER_FLAGS=$ldflags"
             "-DCMAKE_MODULE_LINKER_FLAGS=$ldflags" "-DCMAKE_SHARED_LINKER_FLAGS=$ldflags")

cmake --install "$build" --prefix "$work/prefix" >/dev/null

# 1. An out-of-tree plugin, built with find_package(awqmap) and awqmap_add_plugin.
cmake -S "$src/examples/plugin" -B "$work/plugin" -DCMAKE_PREFIX_PATH="$work/prefix" "${cmake_flags[@]}" >/dev/null
cmake --build "$work/plugin" >/dev/null
[ -f "$work/plugin/awqmap-my_moe.so" ] || fail "awqmap_add_plugin did not produce awqmap-my_moe.so"

# 2. The prefix is relocatable: move it, then use it from the new place only.
mv "$work/prefix" "$work/moved"
cli="$work/moved/bin/awqmap"

AWQMAP_PLUGIN_PATH="$work/plugin" "$cli" resolve "$src/examples/plugin/my-moe-tiny.model.json" --format json > "$work/my_moe.json"
python3 - "$work/my_moe.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["selection"] == {"kind": "static", "plugin": "my_moe"}, r["selection"]
smooth = [g["smooth_name"] for g in r["resolved"] if g["mapping"] == 2]
assert smooth == ["model.layers.0.post_attention_layernorm", "model.layers.1.post_attention_layernorm"], smooth
g = [g for g in r["resolved"] if g["mapping"] == 2][0]
assert g["balance_names"] == ["model.layers.0.block_sparse_moe.gate",
                              "model.layers.0.block_sparse_moe.experts.0.w1", "model.layers.0.block_sparse_moe.experts.1.w1",
                              "model.layers.0.block_sparse_moe.experts.0.w3", "model.layers.0.block_sparse_moe.experts.1.w3"], g
assert g["parent_name"] == "model.layers.0.block_sparse_moe", g
assert len([g for g in r["resolved"] if g["mapping"] == 3]) == 4
PY
# (into a file: `grep -q` in a pipe closes it early, and awqmap rightly fails on a closed output)
AWQMAP_PLUGIN_PATH="$work/plugin" "$cli" plugins > "$work/plugins.txt"
grep -q "^my_moe 1.0.0" "$work/plugins.txt" || fail "the installed CLI does not list the my_moe plugin"

# The installed CLI finds its shipped plugins and its bundled example with no flags.
out=$(env -u AWQMAP_PLUGIN_PATH "$cli" resolve 2>/dev/null)
echo "$out" | head -1 | grep -q "$work/moved/share/awqmap/examples/qwen3-next-tiny" || fail "default model is not the installed example: $(echo "$out" | head -1)"
echo "$out" | grep -q "dynamic (builder hybrid_attention_exact, plugin qwen3_next)" || fail "shipped plugins not found from the moved prefix"

# 3. The embedding example.
cmake -S "$src/examples/embed" -B "$work/embed" -DCMAKE_PREFIX_PATH="$work/moved" "${cmake_flags[@]}" >/dev/null
cmake --build "$work/embed" >/dev/null
"$work/embed/awqmap_plan" "$work/moved/share/awqmap/examples/qwen3-next-tiny" > "$work/plan.txt"
grep -q "^Qwen3NextForCausalLM: 56 smoothing groups (dynamic mappings from plugin qwen3_next)" "$work/plan.txt" || fail "embed: $(head -1 "$work/plan.txt")"
grep -q "^smooth model.layers.3.input_layernorm  parent model.layers.3.self_attn" "$work/plan.txt" || fail "embed: no layer-3 attention group"
grep -q "^  balance model.layers.3.self_attn.q_proj  \[" "$work/plan.txt" || fail "embed: no balance shapes"

# 4. pkg-config, when the tool is there.
if command -v pkg-config >/dev/null; then
  flags=$(PKG_CONFIG_PATH="$work/moved/lib/pkgconfig" pkg-config --cflags --libs awqmap)
  echo "$flags" | grep -q -- "-I$work/moved/lib/pkgconfig/../../include" || fail "pkg-config cflags: $flags"
  printf '#include <awqmap/version.hpp>\n#include <cstdio>\nint main() { std::puts(awqmap::version); }\n' > "$work/v.cpp"
  # shellcheck disable=SC2086
  g++ -std=c++17 $cxxflags "$work/v.cpp" -o "$work/v" $flags $ldflags
  [ "$("$work/v")" = "0.1.0" ] || fail "pkg-config build"
fi
