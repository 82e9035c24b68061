#!/usr/bin/env python3
"""`sipscope tui` driven as a person drives it, in a tmux pane (send-keys, capture-pane), on
captures from the project's generator, checked against the truth it wrote: the call list's
content and order, sorting, each filter, a call's ladder (arrows in frame order, each the
right way), a message's text equal to the capture's bytes, the issues tab and its jump to a
frame, saving a call to a pcap that tshark reads as that call (Call-ID, SIP frames, RTP),
a resize to 80x24, a display name carrying escape sequences (shown as \\x1b, never sent to
the terminal: the pane's title stays), the help, NO_COLOR, and quitting by q, Ctrl-C and
SIGTERM with the terminal restored.

Usage: test_tui.py PATH/TO/sipscope"""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, HERE)
from sstest import Checks, generate, need_ci, poll, skip  # noqa: E402
from tmuxpane import Pane  # noqa: E402

# the first call's From display name: a screen clear, a window title set (OSC 0, ended by
# BEL) and a bell, as an attacker would write them
EVIL = 'Evil\x1b[2J\x1b]0;pwned\x07name'
NAMES = {'INVITE': 'INVITE', 'ACK': 'ACK', 'BYE': 'BYE', 'CANCEL': 'CANCEL', '100': '100 Trying',
         '180': '180 Ringing', '200': '200 OK', '486': '486 Busy Here',
         '487': '487 Request Terminated'}


def rows(screen):
    """The call list as [{'sel': bool, 'Time':..., 'From':..., ...}], columns cut where the
    header puts them."""
    if not screen:
        return []
    head = screen[0]
    cols = [(m.group(0).rstrip('^v'), m.start()) for m in re.finditer(r'\S+', head)]
    out = []
    for line in screen[1:]:
        if not line.strip() or line.startswith('filter:') or line.startswith('calls '):
            break
        r = {'sel': line.startswith('>')}
        for i, (name, at) in enumerate(cols):
            end = cols[i + 1][1] if i + 1 < len(cols) else len(line)
            r[name] = line[at:end].strip()
        out.append(r)
    return out


def is_done(screen):
    """Whether the status line says the input was read whole."""
    return any(line.startswith('calls ') and '  done  ' in line for line in screen)


def truth_row(t):
    pdd = '%.0f' % ((t['ringing_ns'] - t['invite_ns']) / 1e6)
    dur = '%.1f' % ((t['end_ns'] - t['answer_ns']) / 1e9) if t.get('answer_ns') else ''
    return {'From': t['from_user'], 'To': t['to_user'], 'State': t['state'],
            'Fin': str(t['final_status']), 'PDD': pdd, 'Dur': dur}


def shown(r):
    return {k: r[k] for k in ('From', 'To', 'State', 'Fin', 'PDD', 'Dur')}


def arrows(screen):
    """(label, direction, frame) per ladder arrow on the screen."""
    res = []
    for line in screen:
        m = re.match(r'[> ]\s*[\d.]+ (.*\|.*) #(\d+)\s*$', line)
        if not m:
            continue
        body = m.group(1)
        d = '>' if '>' in body else '<' if '<' in body else '?'
        label = re.sub(r'[-<>|]+', ' ', body).replace('+SDP', '').replace('(retr)', '').split()
        res.append((' '.join(label), d, int(m.group(2)), line.startswith('>')))
    return res


def frame_payload(pcap, n):
    """The UDP payload of frame n (1-based) of a generated pcap (Ethernet, IPv4, UDP)."""
    with open(pcap, 'rb') as f:
        f.read(24)
        for i in range(1, n + 1):
            _, _, incl, _ = struct.unpack('<IIII', f.read(16))
            data = f.read(incl)
        ihl = (data[14] & 15) * 4
        return data[14 + ihl + 8:]


def start(exe, args, cwd, env=None, x=100, y=30):
    p = Pane('%s tui %s' % (exe, args), cwd, env, x, y)
    return p


def check_list(check, p, truth):
    s = p.wait(lambda s: len(rows(s)) == len(truth['calls']) and is_done(s))
    check(s is not None, 'the list shows every call and the run is done')
    got = rows(s or [''])
    check([shown(r) for r in got] == [truth_row(t) for t in truth['calls']],
          'list in order of the first INVITE: %s' % [shown(r) for r in got])
    check(got and got[0]['sel'], 'the first call is selected')
    answered = [r for r in got if r['State'] == 'completed']
    check(answered and all(re.fullmatch(r'[1-5]\.\d\d', r['MOS']) for r in answered),
          'answered calls have a worst MOS')
    status = [line for line in s or [] if line.startswith('calls ')]
    n, ans = len(truth['calls']), truth['kpi']['answered']
    check(status and status[0].startswith('calls %d  active 0  ASR %.0f%%  drops 0' % (n, 100 * ans / n)),
          'status line: %s' % status)


def check_sort(check, p, truth):
    want = sorted(truth['calls'], key=lambda t: (t['ringing_ns'] - t['invite_ns']))
    p.keys('6')
    s = p.wait(lambda s: 'PDD^' in s[0])
    check(s and [r['PDD'] for r in rows(s)] == [truth_row(t)['PDD'] for t in want],
          'sorted by PDD: %s' % [r['PDD'] for r in rows(s or [''])])
    p.keys('6')
    s = p.wait(lambda s: 'PDDv' in s[0])
    check(s and [r['PDD'] for r in rows(s)] == [truth_row(t)['PDD'] for t in reversed(want)],
          'sorted by PDD, the other way')
    p.keys('2')
    s = p.wait(lambda s: 'From^' in s[0])
    check(s and [r['From'] for r in rows(s)] == sorted(t['from_user'] for t in truth['calls']),
          'sorted by From')
    p.keys('1')
    p.wait(lambda s: 'Time^' in s[0])


def apply_filter(p, text, bad=None):
    p.keys('c')
    p.keys('/')
    p.type(text)
    p.keys('Enter')
    if bad:
        return p.wait_text(bad)
    return p.wait(lambda s: any(line.startswith('filter: %s ' % text) for line in s))


def check_filters(check, p, truth):
    calls = truth['calls']
    cases = [('state:busy', [t for t in calls if t['state'] == 'busy']),
             ('user:%s' % calls[3]['from_user'], [calls[3]]),
             ('ip:%s' % calls[4]['callee'].split(':')[0], [calls[4]]),
             ('mos<5', [t for t in calls if t.get('answer_ns')]),
             ('mos<1', []),
             (calls[2]['call_id'][:12], [calls[2]]),  # free text: a piece of its Call-ID
             ('state:cancelled user:%s' % calls[5]['from_user'], [calls[5]])]
    for text, want in cases:
        s = apply_filter(p, text)
        got = [shown(r) for r in rows(s)] if s else None
        check(got == [truth_row(t) for t in want], 'filter %r: %s' % (text, got))
    s = apply_filter(p, 'mos<x', bad='filter: mos< wants a number')
    check(s is not None and not any(line.startswith('filter: mos<x') for line in s),
          'a bad filter is refused, said')
    p.keys('c')
    p.wait(lambda s: len(rows(s)) == len(calls))


def check_ladder_and_text(check, p, truth, pcap):
    t = truth['calls'][0]
    p.keys('Home', 'Enter')
    s = p.wait(lambda s: s[0].startswith('call-1 ') and len(arrows(s)) == len(t['messages']))
    got = [(a[0], a[1], a[2]) for a in arrows(s or [])]
    want = [(NAMES[m['label']], '>' if m['src'] == t['caller'] else '<', m['frame']) for m in t['messages']]
    check(got == want, 'ladder arrows in frame order: %s, truth %s' % (got, want))
    check(s and '\\x1b[2J\\x1b]0;pwned\\x07name' in s[0], 'the hostile display name shown escaped: %r' % (s or [''])[0])
    check(p.title() != 'pwned', 'the escape sequence never reached the terminal (title %r)' % p.title())
    esc = '\n'.join(p.screen(escapes=True))
    check('\x1b]' not in esc and '\x1b[2J' not in esc and '\x07' not in esc, 'no raw OSC, clear or bell on the screen')
    # the 200 OK with its SDP (the fourth message), its text full screen
    k = [m['label'] for m in t['messages']].index('200')
    p.keys(*(['Down'] * k))
    s = p.wait(lambda s: any(a[3] and a[2] == t['messages'][k]['frame'] for a in arrows(s)))
    check(s is not None, 'Down moves the selection to frame %d' % t['messages'][k]['frame'])
    p.keys('Enter')
    s = p.wait(lambda s: s[0].startswith('frame #%d ' % t['messages'][k]['frame']))
    # control bytes as \xNN (tests/tui: the display name's ESC and BEL), the rest as sent
    text = re.sub(r'[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]', lambda m: '\\x%02x' % ord(m.group(0)),
                  frame_payload(pcap, t['messages'][k]['frame']).decode('latin-1'))
    want_lines = text.split('\r\n')
    while want_lines and want_lines[-1] == '':
        want_lines.pop()
    got_lines = [line.rstrip() for line in (s or [''] * 2)[1:1 + len(want_lines)]]
    check(got_lines == want_lines, "the message's text is the capture's bytes:\n%s\n---\n%s" % (
        '\n'.join(got_lines), '\n'.join(want_lines)))
    p.keys('q')
    p.wait(lambda s: s[1].startswith('[Ladder]'))
    # the INVITE's From line, with the name, escaped in the text below the ladder
    p.keys('Home')
    s = p.wait_text('From: "Evil\\x1b[2J\\x1b]0;pwned\\x07name"')
    check(s is not None, 'the raw text shows the hostile name escaped')
    p.keys('Tab')
    s = p.wait(lambda s: s[1].lstrip().startswith('Ladder') and '[Streams](2)' in s[1])
    streams = [line for line in s or [] if line.startswith('stream-')]
    want_st = sorted((x['src'], x['dst'], x['packets']) for x in t['streams'])
    got_st = sorted((ln.split()[1], ln.split()[3], int(ln.split()[5])) for ln in streams)
    check(got_st == want_st, 'streams tab: %s, truth %s' % (got_st, want_st))
    p.keys('q')
    p.wait(lambda s: len(rows(s)) > 0)


def check_save(check, p, truth, tmp):
    t = truth['calls'][0]
    p.keys('Home', 's')
    p.wait_text('save 1 call to: call-1.pcap')
    p.keys('Enter')
    s = p.wait_text('saved 1 call(s)')
    check(s is not None, 'saved, said in the status line')
    path = os.path.join(tmp, 'call-1.pcap')
    if not need_ci(check, shutil.which('tshark'), 'tshark'):
        return
    poll(lambda: os.path.exists(path))
    r = subprocess.run(['tshark', '-r', path, '-T', 'fields', '-e', 'frame.number', '-e', 'sip.Call-ID',
                        '-e', 'rtp.ssrc'], capture_output=True, text=True)
    lines = [ln.split('\t') for ln in r.stdout.splitlines()]
    sip = [ln for ln in lines if ln[1]]
    rtp = [ln for ln in lines if ln[2]]
    check(r.returncode == 0 and len(sip) == len(t['messages']) and {ln[1] for ln in sip} == {t['call_id']},
          'tshark reads the call: %d SIP frames with Call-IDs %s' % (len(sip), {ln[1] for ln in sip}))
    check(len(rtp) == sum(x['packets'] for x in t['streams']),
          'with its RTP: %d packets, truth %d' % (len(rtp), sum(x['packets'] for x in t['streams'])))
    check(len(lines) == len(t['messages']) + sum(x['packets'] + x['rtcp_packets'] for x in t['streams']),
          'and nothing else: %d frames' % len(lines))


def check_wide(check, p, truth, pcap):
    """At 170 columns the selected message's text stands beside the ladder, as sent."""
    p.tmux('resize-window', '-x', '170', '-y', '40')
    p.wait(lambda s: len(s) >= 40 and len(rows(s)) == len(truth['calls']))
    t = truth['calls'][0]
    f = t['messages'][0]['frame']
    p.keys('Home', 'Enter')
    s = p.wait(lambda s: s[0].startswith('call-1 ') and any('#%d ' % f in ln and '\u2502 ' in ln for ln in s))
    check(s is not None, 'the ladder and the text side by side at 170 columns')
    want = frame_payload(pcap, f).decode('latin-1').split('\r\n')[:3]
    got = [ln.split('\u2502 ', 1)[1].rstrip() if '\u2502 ' in ln else '' for ln in (s or [''] * 6)[3:6]]
    check(got == [w[:len(g)] for w, g in zip(want, got)] and all(len(g) > 10 for g in got),
          'beside the ladder: the message as sent: %s, capture %s' % (got, want))
    check('INVITE' in (s or [''] * 4)[3].split('\u2502')[0],
          'the INVITE arrow on the same line as its first line: %r' % (s or [''] * 4)[3])
    p.keys('q')
    p.wait(lambda s: s[0].lstrip().startswith('Time'))


def check_resize(check, p, truth):
    p.tmux('resize-window', '-x', '80', '-y', '24')
    s = p.wait(lambda s: len(s) >= 24 and s[23].startswith('calls ') and len(rows(s)) == len(truth['calls']))
    check(s is not None and all(len(line) <= 80 for line in s),
          'after a resize to 80x24: the list and the status line fit')
    p.keys('Enter')
    s = p.wait(lambda s: s[0].startswith('call-1 ') and len(arrows(s)) > 0)
    check(s is not None and s[23].startswith('calls '), 'the call view at 80x24:\n%s' % '\n'.join(p.screen()))
    p.keys('q')
    p.keys('?')
    s = p.wait_text('sipscope tui: keys')
    text = '\n'.join(s or [])
    check(all(k in text for k in ('sort by', 'filter', 'save', 'quit', 'Tab', 'Enter')), 'the help lists the keys')
    p.keys('x')
    p.wait(lambda s: len(rows(s)) > 0)


def check_issues(check, exe, tmp):
    pcap = os.path.join(tmp, 'i.pcap')
    truth = generate('issues', pcap, os.path.join(tmp, 'i.json'))
    p = start(exe, pcap, tmp)
    try:
        p.wait(lambda s: is_done(s) and rows(s), deadline=30)
        scen = [x for x in truth['scenarios'] if 'call_id' in x]
        want = sorted(x['call_id'] for x in scen if any(k == 'retransmissions' for k, _ in x['issues']))
        s = apply_filter(p, 'issue:retransmissions')
        check(s is not None and len(rows(s)) == len(want), 'issue:retransmissions: %d calls, truth %d' % (
            len(rows(s or [''])), len(want)))
        p.keys('Home', 'Enter')
        s = p.wait(lambda s: s[0].startswith('call-'))
        cid = s[0].split()[-1] if s else ''
        check(cid in want, 'the call shown is one truth names: %s' % cid)
        x = next((x for x in scen if x['call_id'] == cid), {'issues': []})
        p.keys('Tab', 'Tab')
        s = p.wait(lambda s: '[Issues]' in s[1])
        got = sorted(m.groups() for m in (re.match(r'[> ]\s+(info|warning|critical)\s+(\S+):', ln)
                                          for ln in (s or [])[3:]) if m)
        check(got == sorted((sev, k) for k, sev in x['issues']), 'issues tab: %s, truth %s' % (got, x['issues']))
        p.keys('Down')
        s = p.wait(lambda s: any(ln.startswith('>') and 'frame #' in ln for ln in s))
        fl = [ln for ln in s or [] if ln.startswith('>') and 'frame #' in ln]
        frame = int(fl[0].split('#')[1]) if fl else -1
        p.keys('Enter')
        s = p.wait(lambda s: '[Ladder]' in s[1])
        sel = [a for a in arrows(s or []) if a[3]]
        check(sel and sel[0][2] == frame, 'Enter on frame #%d selects it in the ladder: %s' % (frame, sel))
    finally:
        p.close()


def check_quit(check, exe, pcap, tmp):
    """q, Ctrl-C and SIGTERM each end it with status 0 and the terminal restored (the
    shell's line after it is on the normal screen); NO_COLOR: no colour at all."""
    for how in ('q', 'C-c', 'TERM'):
        p = start(exe, pcap, tmp, env={'NO_COLOR': '1'} if how == 'q' else None)
        try:
            s = p.wait(lambda s: rows(s) and is_done(s))
            if how == 'q':
                esc = '\n'.join(p.screen(escapes=True))
                check(not re.search(r'\x1b\[[0-9;]*3[1-7]m|\x1b\[[0-9;]*38;', esc), 'NO_COLOR: no colour')
            elif how == 'C-c':
                esc = '\n'.join(p.screen(escapes=True))
                check(re.search(r'\x1b\[[0-9;]*3[1-7]m', esc), 'colours without NO_COLOR')
            if how == 'TERM':
                kids = subprocess.run(['pgrep', '-P', str(p.pid()), '-x', 'sipscope'], capture_output=True,
                                      text=True).stdout.split()
                check(len(kids) == 1, 'its pid: %s' % kids)
                for k in kids:
                    os.kill(int(k), signal.SIGTERM)
            else:
                p.keys(how)
            s = p.wait_text('EXIT=')
            check(s is not None and any(ln.startswith('EXIT=0') for ln in s), '%s: exit 0' % how)
            check(s is not None and not any(ln.startswith('calls ') for ln in s),
                  '%s: the terminal is restored (the list is gone)' % how)
        finally:
            p.close()


def check_drawing(check, exe, tmp):
    """UTF-8 and ASCII drawing: Kamailio's long 100 cut with U+2026 or "...", the head and a
    dash each side kept; the separator a box-drawing line or dashes; in the C locale (and
    with SIPSCOPE_TUI_ASCII=1) nothing on the screen above 0x7e."""
    pcap = os.path.join(tmp, 'kam.pcap')
    t = generate('calls', pcap, os.path.join(tmp, 'kam.json'), '--calls', '1', '--duration', '1',
                 '--trying', 'trying -- your call is important to us')['calls'][0]
    f100 = next(m['frame'] for m in t['messages'] if m['label'] == '100')
    for name, env, tail, line in (('UTF-8', None, '\u2026-|', '\u2500' * 20),
                                  ('C', {'LANG': 'C', 'LC_ALL': 'C'}, '...--|', '-' * 20),
                                  ('ASCII', {'SIPSCOPE_TUI_ASCII': '1'}, '...--|', '-' * 20)):
        p = start(exe, pcap, tmp, env=env)
        try:
            p.wait(lambda s: rows(s) and is_done(s))
            p.keys('Enter')
            s = p.wait(lambda s: any(a[2] == f100 for a in arrows(s))) or []
            got = [ln.rsplit(' #', 1)[0].rstrip() for ln in s if ln.rstrip().endswith(' #%d' % f100)]
            check(got and got[0].endswith(tail) and '|<-100 trying -- ' in got[0],
                  '%s: the long 100 drawn as %r' % (name, got))
            check(any(line in ln for ln in s), '%s: the separator' % name)
            if env:
                check(all(ord(c) < 0x7f for ln in s for c in ln), '%s: nothing but ASCII' % name)
        finally:
            p.close()


def check_registrations(check, exe, tmp):
    """REGISTER dialogs (sngrep lists them): hidden until d, then one row each as the
    generator's truth has them, and one opens on its ladder."""
    pcap = os.path.join(tmp, 'r.pcap')
    truth = generate('registrations', pcap, os.path.join(tmp, 'r.json'))['registrations']
    p = start(exe, pcap, tmp)
    try:
        s = p.wait(lambda s: is_done(s) and any('REGISTER dialogs too' in ln for ln in s))
        check(s is not None and not rows(s), 'calls only: no row, and d said: %s' % (s or [''])[:3])
        p.keys('d')
        s = p.wait(lambda s: len(rows(s)) == len(truth))
        got = [(r['From'], r['State'], r['Fin']) for r in rows(s or [''])]
        want = [(t['aor'].split(':')[1].split('@')[0], t['state'][:11], str(t['final_status'])) for t in truth]
        check(got == want, 'd lists the REGISTER dialogs: %s, truth %s' % (got, want))
        p.keys('Home', 'Enter')
        s = p.wait(lambda s: s[0].startswith('REGISTER-') and arrows(s))
        check(s is not None and arrows(s)[0][0] == 'REGISTER', 'a REGISTER dialog opens on its ladder')
        p.keys('q', 'd')
        s = p.wait(lambda s: not rows(s) and s[0].lstrip().startswith('Time'))
        check(s is not None, 'd again: calls only')
    finally:
        p.close()


def main(exe):
    if not shutil.which('tmux'):
        return skip('tmux not installed')
    check = Checks()
    exe = os.path.abspath(exe)
    t0 = time.monotonic()
    laps = [t0]

    def lap(what):
        now = time.monotonic()
        print('%s: %.1f s' % (what, now - laps[-1]))
        laps.append(now)
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'c.pcap')
        truth = generate('calls', pcap, os.path.join(tmp, 'c.json'), '--calls', '6', '--duration', '2',
                         '--outcomes', 'answered,busy,cancelled', '--display', EVIL)
        p = start(exe, pcap, tmp)
        try:
            check_list(check, p, truth)
            lap('list')
            check_sort(check, p, truth)
            lap('sort')
            check_filters(check, p, truth)
            lap('filters')
            check_ladder_and_text(check, p, truth, pcap)
            lap('ladder_and_text')
            check_save(check, p, truth, tmp)
            lap('save')
            check_wide(check, p, truth, pcap)
            lap('wide')
            check_resize(check, p, truth)
            lap('resize')
        finally:
            p.close()
        check_issues(check, exe, tmp)
        lap('issues')
        check_quit(check, exe, pcap, tmp)
        lap('quit')
        check_drawing(check, exe, tmp)
        lap('drawing')
        check_registrations(check, exe, tmp)
        lap('registrations')
    print('%.1f s' % (time.monotonic() - t0))
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
