#!/usr/bin/env python3
"""The issue catalogue end to end (tests/gen/issues.py): every scenario's call,
registration or stream carries exactly the issue kinds, at the severities, that its truth
names: the kind it was built to show, and nothing on its twin. Also checks that every issue
has the contract's fields, that its frames are frames of the capture and include one of
the call's messages, that each call's issues are among the document's, and that the text
report ends with them, worst first.

Usage: test_issues.py PATH/TO/sipscope"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402

FIELDS = {'kind', 'severity', 'call', 'stream', 'registration', 'time', 'frames', 'summary',
          'diagnosis', 'evidence'}
RANK = {'critical': 2, 'warning': 1, 'info': 0}


def holds(want, got):
    """Whether evidence got holds every figure of want (the generator's truth): dicts key by
    key, {'approx': v, 'within': t} within t of v, anything else equal."""
    if isinstance(want, dict) and 'approx' in want:
        return isinstance(got, (int, float)) and not isinstance(got, bool) and abs(got - want['approx']) <= want['within']
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and holds(v, got[k]) for k, v in want.items())
    return got == want


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'i.pcap')
        truth = generate('issues', pcap, os.path.join(tmp, 'i.json'))
        j = analyze(exe, pcap, '--messages')
        calls = {c['call_id']: c for c in j['calls']}
        msgs = {}
        for m in j['messages']:
            msgs.setdefault(m['call'], set()).add(m['frame'])
        every = j['issues']
        for i in every:
            check(set(i) == FIELDS, '%s: fields %s' % (i['kind'], sorted(i)))
            check(i['summary'] and i['diagnosis'], '%s: summary and diagnosis' % i['kind'])
            check(all(1 <= f <= truth['frames'] for f in i['frames']) and i['frames'],
                  '%s: frames %s within the capture' % (i['kind'], i['frames']))
            if i['call'] and i['kind'] not in ('packet_loss', 'high_jitter', 'low_mos', 'high_latency'):
                check(bool(set(i['frames']) & msgs.get(i['call'], set())),
                      '%s of %s: frames %s name one of its messages' % (i['kind'], i['call'], i['frames']))
        for t in truth['scenarios']:
            n = t['name']
            want = sorted(tuple(x) for x in t['issues'])
            if 'call_id' in t:
                c = calls.get(t['call_id'])
                if not c:
                    check(False, '%s: call missing' % n)
                    continue
                got = sorted((i['kind'], i['severity']) for i in c['issues'])
                top = sorted((i['kind'], i['severity']) for i in every if i['call'] == c['id'])
                check(got == top, '%s: the call\'s issues %s are the document\'s %s' % (n, got, top))
            elif 'registration' in t:
                got = sorted((i['kind'], i['severity']) for i in every if i['registration'] == t['registration'])
            else:
                ids = [s['id'] for s in j['streams'] if s['src'] == t['stream']['src'] and s['dst'] == t['stream']['dst']]
                got = sorted((i['kind'], i['severity']) for i in every if i['stream'] in ids and not i['call'])
            check(got == want, '%s: issues %s, truth %s' % (n, got, want))
        # evidence that names the cause, where the scenario decides it
        by = {(i['call'], i['kind']): i for i in every}
        def ev(name, kind):
            c = calls.get(next(t['call_id'] for t in truth['scenarios'] if t['name'] == name))
            return by.get((c and c['id'], kind), {}).get('evidence', {})
        check(ev('oneway', 'one_way_audio').get('silent') == 'caller_to_callee', 'oneway: the caller is silent')
        check(ev('natoneway', 'one_way_audio').get('silent_side_sdp_private') == 'yes', 'natoneway: NAT named')
        check(ev('b2bua183', 'ringback_silence').get('b2bua_turned_180_into_183') == 'yes', 'b2bua183: 180 -> 183 named')
        check(ev('ringback183', 'ringback_silence').get('b2bua_turned_180_into_183') == 'no', 'ringback183: no B2BUA')
        check(ev('authloop', 'auth_loop').get('challenges') == 4 and ev('authloop', 'auth_loop').get('with_credentials') == 3,
              'authloop: 4 challenges, 3 with credentials: %s' % ev('authloop', 'auth_loop'))
        check(ev('codecdisjoint', 'codec_mismatch').get('caller_codecs') == 'PCMA'
              and ev('codecdisjoint', 'codec_mismatch').get('callee_codecs') == 'PCMU', 'codecdisjoint: both lists')
        check(ev('retrans', 'retransmissions').get('copies') == 3, 'retrans: 3 sends')
        check(abs(ev('latency', 'high_latency').get('rtt_ms', 0) - 700) < 1, 'latency: RTT 700 ms')
        # figures the generator wrote into the truth (issue 21: payload types each way, RTP
        # during a hold, the ports RTCP took)
        for t in truth['scenarios']:
            for kind, want in t.get('evidence', {}).items():
                got = ev(t['name'], kind)
                check(holds(want, got), '%s: %s evidence %s holds %s' % (t['name'], kind, got, want))
        def diag(name, kind):
            c = calls.get(next(t['call_id'] for t in truth['scenarios'] if t['name'] == name))
            return by.get((c and c['id'], kind), {}).get('diagnosis', '')
        d = diag('codecoffered', 'codec_mismatch')
        check("answer's SDP is wrong" in d and "offer's codec" in d and 'will not decode' not in d,
              'codecoffered: the answer is wrong, the media flowed in the offer\'s codec: %s' % d)
        d = diag('codeconeway', 'codec_mismatch')
        # the offer the generator wrote (8, 101), not the answer's (0), is what the RTP is held against
        check('will not decode' in d and "against the offer's [8,101]" in d,
              'codeconeway: the mismatch as before, the RTP against the offer\'s payload types: %s' % d)
        check('music on hold' in diag('holdignored', 'media_during_hold')
              and 'kept sending' in diag('holdignored', 'media_during_hold'),
              'holdignored: the callee ignored the hold; music on hold is allowed')
        check('privacy' in diag('holdinactive', 'media_during_hold'), 'holdinactive: the holder kept sending')

        # the text report ends with the issues, worst group first
        r = subprocess.run([exe, 'analyze', '--no-progress', pcap], check=True, capture_output=True, text=True)
        lines = r.stdout.splitlines()
        at = next((k for k, l in enumerate(lines) if l.startswith('issues ')), None)
        check(at is not None and lines[at].startswith('issues    %d:' % len(every)), 'text: issues line')
        sev = [l.split()[0] for l in lines[(at or 0) + 1:] if l.startswith('  ') and not l.startswith('   ')]
        groups, cur = [], None
        for l in lines[(at or 0) + 1:]:
            if l and not l.startswith(' '):
                cur = []
                groups.append(cur)
            elif l.startswith('  ') and not l.startswith('   ') and cur is not None:
                cur.append(RANK[l.split()[0]])
        worst = [max(g) for g in groups if g]
        check(len(sev) == len(every), 'text: %d issues listed, %d found' % (len(sev), len(every)))
        check(worst == sorted(worst, reverse=True), 'text: groups worst first %s' % worst)
        check(all(g == sorted(g, reverse=True) for g in groups), 'text: worst first within a group')
        # thresholds from a flag and from the config file
        j2 = analyze(exe, pcap, '--threshold', 'pdd_warn_ms=8000')
        pdd = [i for i in j2['issues'] if i['kind'] == 'long_post_dial_delay']
        check(not pdd, '--threshold pdd_warn_ms=8000 silences the 7 s PDD: %s' % pdd)
        conf = os.path.join(tmp, 'sipscope.conf')
        with open(conf, 'w') as f:
            f.write('# thresholds\nloss_crit_pct = 10\n')
        j3 = analyze(exe, pcap, '--config', conf)
        loss = [i['severity'] for i in j3['issues'] if i['kind'] == 'packet_loss']
        check(loss == ['warning'], 'config loss_crit_pct = 10: 5 %% loss is a warning: %s' % loss)
        bad = subprocess.run([exe, 'analyze', '--threshold', 'nosuch=1', pcap], capture_output=True, text=True)
        check(bad.returncode == 2 and 'no such threshold' in bad.stderr, 'unknown threshold refused')
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
