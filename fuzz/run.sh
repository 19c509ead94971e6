#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 and runs each for SECONDS (default 60), one after
# another, from seed corpora generated from tests/corpus. Any crash, leak, sanitizer report or
# disagreement between the fast matchers and the regex engine fails the run; the input is left
# in the build folder as crash-* (keep it under tests/fuzz-regressions/<target>/).
#
#   fuzz/run.sh [SECONDS]          environment: AWQMAP_FUZZ_BUILD (default build-fuzz),
#                                  AWQMAP_FUZZ_TARGETS (default: all), AWQMAP_FUZZ_JOBS (default 2)
set -euo pipefail
seconds="${1:-60}"
cd "$(dirname "$0")/.."
build="${AWQMAP_FUZZ_BUILD:-build-fuzz}"
targets="${AWQMAP_FUZZ_TARGETS:-description safetensors config regex mappings tree}"
jobs="${AWQMAP_FUZZ_JOBS:-2}"

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
  -DAWQMAP_BUILD_FUZZERS=ON -DAWQMAP_BUILD_TESTS=OFF -DAWQMAP_BUILD_BENCHMARKS=OFF -DAWQMAP_BUILD_PYTHON=OFF >/dev/null
exes=""
for t in $targets; do exes="$exes awqmap_fuzz_$t"; done
# shellcheck disable=SC2086
cmake --build "$build" -j"$jobs" --target $exes

seeds="$build/fuzz-seeds"
rm -rf "$seeds"
python3 fuzz/make_seeds.py "$seeds" >/dev/null
for t in $targets; do
  corpus="$build/fuzz-corpus/$t"
  mkdir -p "$corpus"
  echo "== $t: ${seconds}s"
  # The plugins the targets load must not come from the caller's environment.
  status=0
  (cd "$build" && AWQMAP_PLUGIN_PATH= ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "./bin/awqmap_fuzz_$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="./$t-" "fuzz-corpus/$t" "fuzz-seeds/$t" >"$t.log" 2>&1) || status=$?
  grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY)" "$build/$t.log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$build/$t.log"
    echo "fuzz target $t failed (exit $status): the input is $build/$t-*, the log $build/$t.log"
    exit 1
  fi
done
echo "all fuzz targets ran ${seconds}s without a finding"
