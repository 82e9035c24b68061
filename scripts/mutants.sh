#!/usr/bin/env bash
# Mutation run: does the suite fail when the code is wrong?
#   scripts/mutants.sh                 every mutant of tests/mutants/mutants.py
#   scripts/mutants.sh --ci            the fast subset (CI)
#   scripts/mutants.sh NAME...         those mutants only
#   scripts/mutants.sh --scratch DIR   build there (default $TMPDIR/sipscope-mutants; kept, reused)
# Ends with one line "N passed, N failed" (passed = killed); exits 1 if any survived or is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 tests/mutants/run.py "$@"
