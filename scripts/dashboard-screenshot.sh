#!/usr/bin/env bash
# docs/dashboard.png: the dashboard page in headless Chromium on the generated capture of
# tests/web/test_dashboard.py (its checks run too, so the picture is of a page that drew
# the truth). Needs chromium and chromedriver (scripts/install-deps.sh) and a build.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build cli/sipscope >/dev/null
python3 tests/web/test_dashboard.py build/cli/sipscope docs/dashboard.png
ls -l docs/dashboard.png
