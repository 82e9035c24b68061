#!/usr/bin/env python3
"""`sipscope tui --db FILE` in a tmux pane: a database written by `analyze --db` shows the
calls of the generator's truth (list, a call's ladder in frame order, and saved to pcap
its SIP frames as captured); a second
`analyze --db` into the same file while the tui runs makes its calls appear, with the
issues its truth names; a stream's audio figures (speech level, active share, the
ringback tone heard) match what the generator wrote into the payload (tests/gen/hear.py);
and the tui writes nothing to the database (its bytes unchanged while it reads).

Usage: test_tui_db.py PATH/TO/sipscope"""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
from sstest import Checks, generate, skip  # noqa: E402
from test_tui import NAMES, arrows, frame_payload, rows, shown, truth_row  # noqa: E402
from tmuxpane import Pane  # noqa: E402


def db_bytes(db):
    """A digest of the database's files as they are on disk (the WAL too: a write by any
    connection lands in one of them)."""
    h = hashlib.sha256()
    for f in (db, db + '-wal'):
        if os.path.exists(f):
            h.update(open(f, 'rb').read())
        h.update(b'|')
    return h.hexdigest()


def analyze(exe, db, pcap):
    subprocess.run([exe, 'analyze', '--db', db, pcap], check=True, capture_output=True)


def streams(screen):
    """{src: (figures line, audio line)} of the streams tab."""
    out = {}
    for i, line in enumerate(screen):
        m = re.match(r'stream-\d+\s+(\S+) -> ', line)
        if m and i + 1 < len(screen):
            out[m.group(1)] = (line, screen[i + 1])
    return out


def audio_figures(line):
    m = re.search(r'audio: level (\S+)(?: dBov)?  speech (\S+)(?: dBov)?  active (\S+?)%?  '
                  r'tones (\S+)', line)
    if not m:
        return None
    num = (lambda v: None if v == '-' else float(v))
    return num(m.group(1)), num(m.group(2)), num(m.group(3).rstrip('%')), m.group(4)


def open_row(p, index, call_id):
    p.keys('Home', *(['Down'] * index), 'Enter')
    return p.wait(lambda s: s[0].startswith('call-') and call_id in s[0])


def check_first(check, p, truth, db, pcap):
    n = len(truth['calls'])
    s = p.wait(lambda s: len(rows(s)) == n and any('following the db' in line for line in s))
    check(s is not None, 'the list shows the db\'s calls, following it')
    got = [shown(r) for r in rows(s or [''])]
    check(got == [truth_row(t) for t in truth['calls']], 'the db\'s calls are the truth\'s: %s' % got)
    t = truth['calls'][0]
    s = open_row(p, 0, t['call_id'])
    s = p.wait(lambda s: len(arrows(s)) == len(t['messages']))
    got = [(a[0], a[1], a[2]) for a in arrows(s or [])]
    want = [(NAMES[m['label']], '>' if m['src'] == t['caller'] else '<', m['frame'])
            for m in t['messages']]
    check(got == want, 'the stored ladder in frame order: %s, truth %s' % (got, want))
    # saved from the database: the stored frames of its SIP, the capture's bytes
    p.keys('s')
    p.wait_text('save 1 call to: ')
    p.keys('Enter')
    n = len(t['messages'])
    s = p.wait_text('saved 1 call(s), %d SIP' % n)
    check(s is not None, 'saving the call writes its %d SIP frames' % n)
    saved = os.path.join(os.path.dirname(db), 'call-1.pcap')
    same = s is not None and all(frame_payload(saved, i + 1) == frame_payload(pcap, m['frame'])
                                 for i, m in enumerate(t['messages']))
    check(same, 'the saved frames are the capture\'s, in order')
    p.keys('q')
    p.wait(lambda s: s[0].lstrip().startswith('Time'))


def check_second(check, p, first, hear):
    n = len(first['calls']) + len(hear['calls'])
    s = p.wait(lambda s: len(rows(s)) == n)
    check(s is not None, 'the second run\'s calls appeared while the tui ran')
    got = rows(s or [''])[len(first['calls']):]
    want = [sorted(k for k, _ in c['issues']) for c in hear['calls']]
    seen = [sorted(k for k in r['Issues'].split(',') if k) for r in got]
    check(seen == want, 'their issues are the truth\'s: %s, truth %s' % (seen, want))
    # the ringback heard in early media: named on the callee's stream only
    base = len(first['calls'])
    for name, check_fn in (('ringback_early', check_tone), ('silent_callee', check_levels)):
        i = next(k for k, c in enumerate(hear['calls']) if c['name'] == name)
        c = hear['calls'][i]
        s = open_row(p, base + i, c['call_id'])
        p.keys('Tab')
        s = p.wait(lambda s: '[Streams](2)' in s[1] and len(streams(s)) == 2)
        check(s is not None, '%s: the streams tab shows its two streams' % name)
        check_fn(check, c, streams(s or []))
        p.keys('q')
        p.wait(lambda s: s[0].lstrip().startswith('Time'))


def check_tone(check, c, st):
    d = c['directions']
    for key, want in (('callee_to_caller', c['early_tone']['kind']), ('caller_to_callee', 'none')):
        a = audio_figures(st.get(d[key]['src'], ('', ''))[1])
        check(a is not None and a[3] == want, '%s: tones %s, truth %s' % (key, a, want))


def check_levels(check, c, st):
    for key, dd in c['directions'].items():
        a = audio_figures(st.get(dd['src'], ('', ''))[1])
        if not check(a is not None, '%s: an audio line' % key):
            continue
        pct = 100.0 * dd['speech_ms'] / dd['talk_ms']
        if dd['speech_dbov'] is None:
            check(a[1] is None, '%s: no speech level, truth none: %s' % (key, a))
        else:
            check(a[1] is not None and abs(a[1] - dd['speech_dbov']) <= 1.5,
                  '%s: speech level %s, truth %s' % (key, a[1], dd['speech_dbov']))
        check(a[2] is not None and abs(a[2] - pct) <= 5,
              '%s: active %s%%, truth %.1f%%' % (key, a[2], pct))


def main(exe):
    if not shutil.which('tmux'):
        return skip('tmux not installed')
    check = Checks()
    exe = os.path.abspath(exe)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, 't.db')
        a, h = os.path.join(tmp, 'a.pcap'), os.path.join(tmp, 'h.pcap')
        first = generate('calls', a, os.path.join(tmp, 'a.json'), '--calls', '4', '--duration', '2',
                         '--outcomes', 'answered,busy')
        hear = generate('audio', h, os.path.join(tmp, 'h.json'))
        analyze(exe, db, a)
        before = db_bytes(db)
        p = Pane('%s tui --db %s' % (exe, db), tmp, None, 130, 30)  # room for two kinds a call
        try:
            check_first(check, p, first, db, a)
            check(db_bytes(db) == before, 'the tui wrote nothing to the database while reading it')
            analyze(exe, db, h)
            after = db_bytes(db)
            check(after != before, 'the second analyze wrote to the database')
            check_second(check, p, first, hear)
            p.keys('q')
            s = p.wait_text('EXIT=')
            check(s is not None and any('EXIT=0' in line for line in s), 'q quits, status 0')
            check(db_bytes(db) == after, 'the tui wrote nothing to the database, to its end')
        finally:
            p.close()
        r = subprocess.run([exe, 'tui', '--db', db, a], capture_output=True, text=True)
        check(r.returncode == 2 and '--db' in r.stderr, '--db with an input file is refused: %r' % r.stderr)
    print('%.1f s' % (time.monotonic() - t0))
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
