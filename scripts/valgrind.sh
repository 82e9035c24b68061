#!/usr/bin/env bash
# The golden tests with sipscope under valgrind memcheck: any memory error or
# definite leak makes sipscope exit 99, which fails the test that ran it. The tests whose
# captures take minutes under valgrind (flood, hostile, retention, crash) are left to the
# ASan+UBSan run.
#   scripts/valgrind.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build -Dwerror=true >/dev/null
fi
ninja -C build >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/sipscope" <<WRAP
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \\
  --show-leak-kinds=definite "$PWD/build/cli/sipscope" "\$@"
WRAP
chmod +x "$tmp/sipscope"
pass=0 fail=0
for t in calls issues scenarios registrations orphans store export; do
  if python3 "tests/golden/test_$t.py" "$tmp/sipscope" > "$tmp/$t.log" 2>&1; then
    pass=$((pass + 1))
    echo "valgrind: $t: $(tail -1 "$tmp/$t.log")"
  else
    fail=$((fail + 1))
    echo "valgrind: $t FAILED"
    tail -40 "$tmp/$t.log"
  fi
done
echo "valgrind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
