#!/usr/bin/env python3
"""The house rule of docs/style.md (rule 2): no C file of the program over 900 lines and no
function over 120, so that each file keeps one job its name says. tests/ and bench/ are
not held to it; tables are data, not functions, and are not counted.

    python3 tests/house.py [ROOT]"""
import os
import sys

FILE_MAX, FUNC_MAX = 900, 120
SKIP = ('tests', 'bench', 'subprojects')


def c_files(root):
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        top = rel.split(os.sep)[0]
        if rel != '.' and (top in SKIP or top.startswith(('build', '.'))):
            dirs[:] = []
            continue
        for f in sorted(files):
            if f.endswith('.c'):
                yield os.path.join(d, f)


def functions(lines):
    """(first line, length, signature) of each function: a '{' alone in column 0 after a
    parameter list, up to the '}' in column 0 that closes it."""
    start = None
    for i, line in enumerate(lines):
        head = ''.join(lines[max(0, i - 4):i])
        if line == '{' and '(' in head and '=' not in lines[i - 1]:
            start = i
        elif line.startswith('}') and start is not None:
            sig = next((lines[j] for j in range(start - 1, max(-1, start - 5), -1)
                        if '(' in lines[j]), '?')
            yield start + 1, i - start + 1, sig.strip()
            start = None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
    bad = []
    nfiles = nfuncs = 0
    for path in c_files(root):
        lines = open(path, errors='replace').read().split('\n')
        rel = os.path.relpath(path, root)
        nfiles += 1
        if len(lines) > FILE_MAX:
            bad.append('%s: %d lines (at most %d)' % (rel, len(lines), FILE_MAX))
        for first, n, sig in functions(lines):
            nfuncs += 1
            if n > FUNC_MAX:
                bad.append('%s:%d: %d-line function %s' % (rel, first, n, sig[:70]))
    for b in bad:
        print('FAIL:', b)
    if nfiles < 50 or nfuncs < 500:  # the walk found the sources, or this checks nothing
        print('FAIL: only %d files and %d functions found under %s' % (nfiles, nfuncs, root))
        return 1
    print('%d files, %d functions: %s' % (nfiles, nfuncs, 'FAIL' if bad else 'all within the house rule'))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
