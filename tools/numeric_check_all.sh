#!/usr/bin/env bash
# The whole numeric check in one go, on a machine with torch and transformers (the device
# machine): describe every class, resolve each description with the bundled CLI (default exact
# mode, and upstream mode for comparison), verify every resolved group.
#   tools/numeric_check_all.sh BUNDLE OUT [numeric_check.py options, e.g. --toy, --classes A B]
# BUNDLE is tools/device_bundle.sh's output.
set -uo pipefail
bundle=$1 out=$2
shift 2
here=$(dirname "$(readlink -f "$0")")
jobs=${JOBS:-$(( $(nproc) > 2 ? $(nproc) - 1 : 1 ))}
mkdir -p "$out/resolved" "$out/upstream"
python3 "$here/numeric_check.py" describe --out "$out/models" --jobs "$jobs" --timeout "${CLASS_TIMEOUT:-150}" "$@" \
  2>"$out/describe.log" | tail -1
for f in "$out"/models/*.model.json; do
  n=$(basename "$f" .model.json)
  "$bundle/awqmap" resolve "$f" --format json >"$out/resolved/$n.resolved.json" 2>"$out/resolved/$n.err"
  echo "$n $?" >>"$out/resolve_exit_codes.txt"
  "$bundle/awqmap" resolve "$f" --format json --upstream >"$out/upstream/$n.resolved.json" 2>/dev/null
  # An input error leaves stdout empty: record it as an error document for the verify pass.
  [ -s "$out/resolved/$n.resolved.json" ] || printf '{"format":"awqmap.error/v1","kind":"bad_input","message":%s}\n' \
    "$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()[-400:]))' "$out/resolved/$n.err")" \
    >"$out/resolved/$n.resolved.json"
done
python3 "$here/numeric_check.py" verify --models "$out/models" --resolved "$out/resolved" --out "$out/verdicts" \
  --jobs "$jobs" --timeout "${CLASS_TIMEOUT:-150}" $(printf '%s\n' "$@" | grep -x -- '--toy') 2>"$out/verify.log" | head -3
