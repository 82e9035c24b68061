#!/usr/bin/env python3
"""The md5 of every output sipscope writes, over the corpus, the generator's captures and
the bench's capture, so that a change meant to keep behaviour can prove it did.

    scripts/outputs.py BUILD/cli/sipscope WORKDIR > list.txt
    diff old.txt new.txt

Per capture: `analyze --json` (with capture.memory and capture.limits taken out: they are
byte counts of our own structs, which a refactor may change), the text report, and
`ladder` of the first two calls. Captures are written once into WORKDIR/captures and
reused; the corpus is read from ../shared/corpus when it is there."""
import glob
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GEN = os.path.join(ROOT, 'tests', 'gen', 'sipgen.py')
CORPUS = os.path.join(os.path.dirname(ROOT), 'shared', 'corpus')

GENERATED = [
    ('calls', ['calls', '--calls', '12', '--duration', '8', '--loss', '0.02',
               '--outcomes', 'answered,busy,cancelled,answered-retrans']),
    ('calls_mirror', ['calls', '--calls', '4', '--duration', '4', '--mirror']),
    ('scenarios', ['scenarios']),
    ('issues', ['issues']),
    ('paths', ['paths']),
    ('registrations', ['registrations']),
    ('flood', ['flood', '--invites', '20000', '--sources', '3000']),
    ('regstorm', ['regstorm', '--phones', '500']),
]


def generate(capdir):
    os.makedirs(capdir, exist_ok=True)
    caps = []
    for name, args in GENERATED:
        out = os.path.join(capdir, name + '.pcap')
        if not os.path.exists(out):
            cmd = [sys.executable, GEN, args[0], '-o', out] + args[1:]
            if args[0] in ('scenarios', 'issues', 'paths', 'registrations'):
                cmd += ['--truth', out + '.truth.json']
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        caps.append(out)
    sample = os.path.join(capdir, 'sample.pcap')
    if not os.path.exists(sample):
        subprocess.run([sys.executable, GEN, 'sample', capdir], check=True,
                       stdout=subprocess.DEVNULL)
    caps.append(sample)
    cases = os.path.join(capdir, 'cases')
    if not os.path.isdir(cases):
        subprocess.run([sys.executable, GEN, 'cases', cases], check=True,
                       stdout=subprocess.DEVNULL)
    caps += sorted(glob.glob(os.path.join(cases, '*.pcap*')))
    for kind in ('register_flood', 'rtp_ports', 'frag_never', 'tcp_partial', 'content_length',
                 'many_headers', 'nested_multipart', 'sdp_many_m'):
        out = os.path.join(capdir, 'hostile_' + kind + '.pcap')
        if not os.path.exists(out):
            subprocess.run([sys.executable, GEN, 'hostile', kind, '-o', out, '--truth',
                            out + '.truth.json'], check=True, stdout=subprocess.DEVNULL)
        caps.append(out)
    return caps


def md5(b):
    return hashlib.md5(b).hexdigest()


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return p.returncode, p.stdout


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    exe, work = os.path.abspath(sys.argv[1]), sys.argv[2]
    caps = generate(os.path.join(work, 'captures'))
    if os.path.isdir(CORPUS):
        caps += sorted(p for p in glob.glob(os.path.join(CORPUS, '**', '*'), recursive=True)
                       if p.endswith(('.pcap', '.pcapng', '.cap')))
    for cap in caps:
        name = os.path.relpath(cap, work if cap.startswith(os.path.abspath(work)) else ROOT)
        if cap.startswith(CORPUS):
            name = 'corpus/' + os.path.relpath(cap, CORPUS)
        rc, out = run([exe, 'analyze', '--json', cap])
        try:
            doc = json.loads(out)
            doc['capture'].pop('memory', None)
            doc['capture'].pop('limits', None)
            doc['capture'].pop('files', None)
            j = md5(json.dumps(doc).encode())
            ids = [c['id'] for c in doc.get('calls', [])[:2]]
        except (ValueError, KeyError, TypeError):
            j, ids = 'rc=%d:%s' % (rc, md5(out)), []
        rc, text = run([exe, 'analyze', cap])
        print('%s json %s' % (name, j))
        print('%s text rc=%d %s' % (name, rc, md5(text.replace(cap.encode(), b'FILE'))))
        for cid in ids:
            rc, lad = run([exe, 'ladder', cap, cid])
            print('%s ladder %s rc=%d %s' % (name, cid, rc, md5(lad)))


if __name__ == '__main__':
    main()
