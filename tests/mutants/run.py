#!/usr/bin/env python3
"""Mutation run: does the suite fail when the code is wrong? (issue 22)

Each mutant in tests/mutants/mutants.py is one small deliberate bug: a file, an exact text
that occurs there exactly once, its replacement, and the meson tests that must fail with
it. This script copies the tree (tracked and modified files, `git ls-files -co
--exclude-standard`) into a scratch directory, builds it once, checks that the unmutated
copy passes every listed test (otherwise a failure proves nothing), then for each mutant:
apply, ninja (incremental), `meson test --no-rebuild` the listed tests one by one until
one fails, restore. A mutant is killed when one of its tests fails.

Exit 1 when a mutant survived, was stale (its text no longer occurs exactly once: the
code moved, the list must follow) or did not build; 2 when the unmutated tree fails.

  tests/mutants/run.py [--ci] [--scratch DIR] [--all-tests] [--list] [NAME...]

--ci runs the mutants marked ci, each against its first listed test alone (the list puts
the cheapest reference first).
"""
import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import mutants as catalogue  # noqa: E402


def sh(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def sync_tree(src, dst):
    """Copy the tree's tracked and modified files; files whose bytes did not change keep
    their time, so a second run on the same scratch directory rebuilds only what moved."""
    out = subprocess.run(['git', '-C', src, 'ls-files', '-co', '--exclude-standard', '-z'],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    n = 0
    for rel in filter(None, out.split('\0')):
        s, d = os.path.join(src, rel), os.path.join(dst, rel)
        if not os.path.isfile(s) or os.path.islink(s):
            continue
        if os.path.exists(d) and filecmp.cmp(s, d, shallow=False):
            continue
        os.makedirs(os.path.dirname(d), exist_ok=True)
        shutil.copy2(s, d)
        n += 1
    return n


def run_test(build, name, env):
    """One meson test; returns its result (OK, FAIL, SKIP, TIMEOUT, ...)."""
    r = sh(['meson', 'test', '-C', build, '--no-rebuild', name], env=env)
    log = os.path.join(build, 'meson-logs', 'testlog.json')
    try:
        with open(log) as f:
            rows = [json.loads(l) for l in f if l.strip()]
        for row in rows:
            if row.get('name') == name:
                return row.get('result', 'ERROR')
    except (OSError, ValueError):
        pass
    return 'OK' if r.returncode == 0 else 'FAIL'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--ci', action='store_true', help='only the mutants marked for CI')
    ap.add_argument('--scratch', help='scratch directory (kept; reused on a second run)')
    ap.add_argument('--all-tests', action='store_true',
                    help='run every listed test of each mutant, not only up to the first kill')
    ap.add_argument('--list', action='store_true', help='print the mutants and exit')
    ap.add_argument('names', nargs='*')
    a = ap.parse_args()

    muts = catalogue.MUTANTS
    names = [m['name'] for m in muts]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        sys.exit('mutants: duplicate names %s' % sorted(dup))
    if a.names:
        unknown = set(a.names) - set(names)
        if unknown:
            sys.exit('mutants: unknown %s' % sorted(unknown))
        muts = [m for m in muts if m['name'] in a.names]
    elif a.ci:
        # the fast subset, each against its first (cheapest) test only
        muts = [dict(m, tests=m['tests'][:1]) for m in muts if m.get('ci')]
    if a.list:
        for m in muts:
            print('%-28s %-4s %-22s %s' % (m['name'], 'ci' if m.get('ci') else '', m['file'],
                                           m['why']))
            print('%28s      killed by: %s (reference: %s)' % ('', ' '.join(m['tests']),
                                                               m.get('ref', '-')))
        return 0

    # Stale first, on the real tree: the text must occur exactly once.
    stale = []
    for m in muts:
        with open(os.path.join(ROOT, m['file'])) as f:
            n = f.read().count(m['find'])
        if n != 1:
            stale.append((m, n))
    for m, n in stale:
        print('STALE %s: its text occurs %d times in %s' % (m['name'], n, m['file']))

    scratch = a.scratch or os.path.join(os.environ.get('TMPDIR', tempfile.gettempdir()),
                                        'sipscope-mutants')
    scratch = os.path.abspath(scratch)
    if scratch == ROOT or scratch.startswith(ROOT + os.sep):
        sys.exit('mutants: the scratch directory must be outside the tree')
    src, build = os.path.join(scratch, 'src'), os.path.join(scratch, 'build')
    os.makedirs(src, exist_ok=True)
    # the corpus tests read ../shared/corpus next to the source tree
    shared = os.path.realpath(os.path.join(ROOT, '..', 'shared'))
    link = os.path.join(scratch, 'shared')
    if os.path.isdir(shared) and not os.path.lexists(link):
        os.symlink(shared, link)

    t0 = time.time()
    copied = sync_tree(ROOT, src)
    print('mutants: %d files copied to %s' % (copied, src), flush=True)
    if not os.path.exists(os.path.join(build, 'build.ninja')):
        r = sh(['meson', 'setup', build, src, '-Db_lto=false', '-Dbuildtype=debugoptimized'])
        if r.returncode:
            print(r.stdout)
            sys.exit('mutants: meson setup failed')
    r = sh(['ninja', '-C', build])
    if r.returncode:
        print(r.stdout[-4000:])
        sys.exit('mutants: the unmutated tree does not build')
    print('mutants: built in %.0f s' % (time.time() - t0), flush=True)

    r = sh(['meson', 'test', '-C', build, '--no-rebuild', '--list'])
    known = {l.split(' / ')[-1].strip() for l in r.stdout.splitlines() if l.strip()}
    unknown = sorted({t for m in muts for t in m['tests']} - known)
    if r.returncode or unknown:
        sys.exit('mutants: no such meson test: %s' % unknown)
    env = dict(os.environ)
    live = [m for m in muts if m not in [s[0] for s in stale]]
    tests = []
    for m in live:
        for t in m['tests']:
            if t not in tests:
                tests.append(t)
    t1 = time.time()
    bad = [(t, res) for t in tests for res in [run_test(build, t, env)] if res != 'OK']
    if bad:
        for t, res in bad:
            print('mutants: the unmutated tree gives %s on %s' % (res, t))
        print('mutants: a kill would prove nothing; fix the tree first')
        return 2
    print('mutants: the unmutated tree passes %d tests (%.0f s)' % (len(tests), time.time() - t1),
          flush=True)

    rows = []
    for m in live:
        path = os.path.join(src, m['file'])
        with open(path) as f:
            orig = f.read()
        t = time.time()
        try:
            with open(path, 'w') as f:
                f.write(orig.replace(m['find'], m['replace'], 1))
            r = sh(['ninja', '-C', build])
            if r.returncode:
                print(r.stdout[-2000:])
                rows.append((m['name'], 'BROKEN (does not build)', time.time() - t))
            else:
                killers = []
                for tn in m['tests']:
                    res = run_test(build, tn, env)
                    if res not in ('OK', 'SKIP'):
                        killers.append(tn if res == 'FAIL' else '%s (%s)' % (tn, res))
                        if not a.all_tests:
                            break
                rows.append((m['name'], ' '.join(killers) if killers else 'SURVIVED',
                             time.time() - t))
        finally:
            with open(path, 'w') as f:
                f.write(orig)
        print('%-28s %-40s %5.0f' % rows[-1], flush=True)
    # leave the scratch build as the tree is, for the next run
    sh(['ninja', '-C', build])

    print()
    print('%-28s %-40s %s' % ('mutant', 'killed by', 'seconds'))
    for m, n in stale:
        rows.append((m['name'], 'STALE (%d matches)' % n, 0))
    for row in rows:
        print('%-28s %-40s %5.0f' % row)
    failed = sum(1 for _, k, _ in rows if k == 'SURVIVED' or k.startswith(('STALE', 'BROKEN')))
    print('mutants: %.0f s in all' % (time.time() - t0))
    print('%d passed, %d failed' % (len(rows) - failed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
