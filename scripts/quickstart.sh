#!/usr/bin/env bash
# The README's first command: install what is missing, build, write the bundled sample
# capture with the project's own generator, and analyse it into sample.db (which
# `sipscope serve --db sample.db` shows in a browser).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
python3 tests/gen/sipgen.py sample .
rm -f sample.db sample.db-wal sample.db-shm
echo "+ build/cli/sipscope analyze sample.pcap --db sample.db" >&2
build/cli/sipscope analyze sample.pcap --db sample.db
echo "
To browse it: build/cli/sipscope serve --db sample.db   then open http://127.0.0.1:8080/" >&2
