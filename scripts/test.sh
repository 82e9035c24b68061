#!/usr/bin/env bash
# The README's second command: build and run the whole test suite.
#   scripts/test.sh              regular build in build/
#   scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
# Ends with one line "N passed, N failed, N skipped" over every meson test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

dir=build
opts=(-Dwerror=true)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  opts+=(-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug -Db_lto=false)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
fi
if [ -f "$dir/build.ninja" ]; then
  meson configure "$dir" "${opts[@]}" >/dev/null
else
  meson setup "$dir" "${opts[@]}" >/dev/null
fi
ninja -C "$dir"
rc=0
meson test -C "$dir" --print-errorlogs || rc=$?
python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
res = [json.loads(l)['result'] for l in open(sys.argv[1]) if l.strip()]
ok = sum(r in ('OK', 'EXPECTEDFAIL') for r in res)
skip = sum(r == 'SKIP' for r in res)
print('%d passed, %d failed, %d skipped' % (ok, len(res) - ok - skip, skip))
PY
exit $rc
