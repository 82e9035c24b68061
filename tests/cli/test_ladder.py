#!/usr/bin/env python3
"""sipscope ladder as a user meets it: one arrow per message of the call, in order, each
pointing the way the message went, labelled with its method or status; the same ladder
by call id and by Call-ID; an unknown call is an error; and control characters in SIP
text (attacker input) never reach the terminal. Expected values come from the
generator's truth.

Usage: test_ladder.py PATH/TO/sipscope"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'gen'))
SIPGEN = os.path.join(HERE, '..', 'gen', 'sipgen.py')
from pcapwrite import LT_ETHERNET, PcapWriter, ether, ipv4, udp  # noqa: E402

passed = failed = 0


def check(cond, what):
    global passed, failed
    passed += bool(cond)
    failed += not cond
    if not cond:
        print('FAIL:', what)


def arrows(out):
    """(label, direction, frame) per arrow line."""
    res = []
    for line in out.splitlines():
        m = re.match(r'\s*[\d.]+ (.*) #(\d+)$', line)
        if not m:
            continue
        body = m.group(1)
        d = '>' if '>' in body else '<' if '<' in body else '?'
        label = re.sub(r'[-<>|]+', ' ', body).replace('+SDP', '').replace('(retr)', '').split()
        res.append((' '.join(label), d, int(m.group(2))))
    return res


def got_arrows_ok(out, t):
    """Whether the arrows are the truth's messages, in frame order, each the right way."""
    got = [(d, f) for _, d, f in arrows(out)]
    return got == [('>' if m['src'] == t['caller'] else '<', m['frame']) for m in t['messages']]


def main(exe):
    with tempfile.TemporaryDirectory() as tmp:
        pcap, tj = os.path.join(tmp, 'c.pcap'), os.path.join(tmp, 'c.json')
        subprocess.run([sys.executable, SIPGEN, 'calls', '-o', pcap, '--truth', tj, '--calls', '3',
                        '--duration', '2', '--outcomes', 'answered,busy,cancelled'], check=True,
                       capture_output=True)
        truth = json.load(open(tj))
        names = {'INVITE': 'INVITE', 'ACK': 'ACK', 'BYE': 'BYE', 'CANCEL': 'CANCEL', '100': '100 Trying',
                 '180': '180 Ringing', '200': '200 OK', '486': '486 Busy Here', '487': '487 Request Terminated'}
        for i, t in enumerate(truth['calls'], 1):
            r = subprocess.run([exe, 'ladder', pcap, 'call-%d' % i], capture_output=True, text=True)
            check(r.returncode == 0, 'ladder call-%d exit %d' % (i, r.returncode))
            got = arrows(r.stdout)
            want = [(names[m['label']], '>' if m['src'] == t['caller'] else '<', m['frame'])
                    for m in t['messages']]
            check(got == want, 'call-%d: %s, truth %s' % (i, got, want))
            check(t['state'] in r.stdout, 'call-%d summary says %s' % (i, t['state']))
            by_cid = subprocess.run([exe, 'ladder', pcap, t['call_id']], capture_output=True, text=True)
            check(by_cid.stdout == r.stdout, 'call-%d: the same by Call-ID' % i)
        r = subprocess.run([exe, 'ladder', pcap, 'call-99'], capture_output=True, text=True)
        check(r.returncode == 1 and 'call-99' in r.stderr, 'unknown call: exit 1')
        check(subprocess.run([exe, 'ladder', pcap], capture_output=True).returncode == 2, 'no call: exit 2')

        # Kamailio's 100, longer than its arrow: cut with an ellipsis, the head and a dash
        # each side of the label kept; "..." in the C locale or with --ascii, U+2026 in UTF-8
        long_reason = 'trying -- your call is important to us'
        kam = os.path.join(tmp, 'kam.pcap')
        subprocess.run([sys.executable, SIPGEN, 'calls', '-o', kam, '--truth', tj, '--calls', '1',
                        '--duration', '1', '--trying', long_reason], check=True, capture_output=True)
        t = json.load(open(tj))['calls'][0]
        f100 = [m['frame'] for m in t['messages'] if m['label'] == '100']
        check(len(f100) == 1 and t.get('trying') == long_reason, 'the generator wrote the long 100')
        for env, args, tail in ((dict(os.environ, LC_ALL='C'), [], '...--|'),
                                (dict(os.environ, LC_ALL='C.UTF-8'), ['--ascii'], '...--|'),
                                (dict(os.environ, LC_ALL='C.UTF-8'), [], '\u2026-|')):
            r = subprocess.run([exe, 'ladder'] + args + [kam, 'call-1'], capture_output=True,
                               env=env)
            out = r.stdout.decode('utf-8', 'replace')
            line = [ln for ln in out.splitlines() if ln.endswith(' #%d' % f100[0])]
            body = line[0].rsplit(' #', 1)[0].rstrip() if line else ''
            check(r.returncode == 0 and body.endswith(tail) and '|<-100 trying -- ' in body,
                  'the long 100 (%s %s) drawn as %r' % (env['LC_ALL'], args, body))
            check(got_arrows_ok(out, t), 'the long 100 call: arrows in frame order (%s)' % env['LC_ALL'])

        # a reason phrase carrying a terminal escape sequence and a bell
        evil = os.path.join(tmp, 'evil.pcap')
        w = PcapWriter(evil, LT_ETHERNET)
        hdr = ('Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-e\r\nFrom: <sip:a@x>;tag=1\r\n'
               'To: <sip:b@y>%s\r\nCall-ID: evil-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n')
        inv = ('INVITE sip:b@y SIP/2.0\r\n' + hdr % '').encode()
        ring = ('SIP/2.0 180 Ring\x1b[2J\x1b]0;pwned\x07ing\r\n' + hdr % ';tag=2').encode()
        for k, (s, d, p) in enumerate([('192.0.2.1', '192.0.2.2', inv), ('192.0.2.2', '192.0.2.1', ring)]):
            w.write(1700000000 * 10**9 + k * 10**6, ether(ipv4(s, d, 17, udp(5060, 5060, p, src=s, dst=d)), 0x0800))
        w.close()
        r = subprocess.run([exe, 'ladder', evil, 'evil-1'], capture_output=True)
        check(r.returncode == 0 and b'180 Ring' in r.stdout, 'the hostile call is drawn')
        check(not re.search(rb'[\x00-\x08\x0b-\x1f\x7f]', r.stdout), 'no control characters reach the terminal')
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
