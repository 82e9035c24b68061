#!/usr/bin/env bash
# The README's first command: install what is missing, build, write the bundled sample
# capture with the project's own generator, and analyse it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
python3 tests/gen/sipgen.py sample .
echo "+ build/cli/sipscope analyze sample.pcap" >&2
build/cli/sipscope analyze sample.pcap
