#!/usr/bin/env python3
"""Mirror duplicates (issue 12): the generator writes the same calls twice over, clean and
with every frame doubled as a SPAN session copying both sides of a path shows it (the copy
20-300 us later, through a router: other MACs, TTL one lower). Doubled, sipscope drops
exactly one copy of every frame (capture.duplicates) and reports the same calls, streams,
messages, retransmissions and issues as from the clean capture, frame numbers aside; the
clean twin drops nothing. SIP's own retransmissions (500 ms apart) stay retransmissions,
and RTP loss stays loss. With --keep-duplicates the copies are analysed.

Usage: test_mirror.py PATH/TO/sipscope"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402

ARGS = ['--calls', '24', '--duration', '4', '--concurrency', '6', '--loss', '0.02', '--seed', '5',
        '--outcomes', 'answered,busy,answered-retrans,cancelled']


def without_frames(x):
    """x with every "frames" list and "frame" number left out (they count the copies)."""
    if isinstance(x, dict):
        return {k: without_frames(v) for k, v in x.items() if k not in ('frames', 'frame')}
    if isinstance(x, list):
        return [without_frames(v) for v in x]
    return x


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        clean, doubled = os.path.join(tmp, 'clean.pcap'), os.path.join(tmp, 'doubled.pcap')
        t_clean = generate('calls', clean, os.path.join(tmp, 'c.json'), *ARGS)
        t_doubled = generate('calls', doubled, os.path.join(tmp, 'd.json'), *ARGS, '--mirror')
        a = analyze(exe, clean, '--messages', '--timelines')
        b = analyze(exe, doubled, '--messages', '--timelines')
        check(a['capture']['duplicates'] == 0, 'clean: no duplicates (%s)' % a['capture']['duplicates'])
        check(b['capture']['packets'] == 2 * a['capture']['packets'] == t_doubled['frames'],
              'doubled: %d frames, twice the clean %d' % (b['capture']['packets'], a['capture']['packets']))
        check(b['capture']['duplicates'] == t_doubled['mirror_copies'],
              'doubled: %s duplicates dropped, %d copies written' % (b['capture']['duplicates'],
                                                                   t_doubled['mirror_copies']))
        for key in ('calls', 'streams', 'registrations', 'issues', 'stats'):
            check(without_frames(a[key]) == without_frames(b[key]), 'doubled: the same %s as clean (%d)'
                  % (key, len(a[key])))
        check(without_frames(a['messages']) == without_frames(b['messages']),
              'doubled: the same %d messages, fields but frame numbers' % len(a['messages']))
        want = sorted(m['frame'] for c in t_doubled['calls'] for m in c['messages'])
        check(sorted(m['frame'] for m in b['messages']) == want,
              "doubled: each message at its first copy's frame")
        retrans = sum(m['retransmission'] for c in t_clean['calls'] for m in c['messages'])
        check(retrans > 0 and sum(c['retransmissions'] for c in b['calls']) == retrans,
              "doubled: SIP's own retransmissions still counted (%d)" % retrans)
        # RTP: per stream, the packets written and the loss the truth gives (its expected
        # counts up to the highest sequence number sent, RFC 3550 A.3; issue 22: this was
        # 0 < total loss <= the loss drawn), no duplicates
        want = sorted((s['src'], s['dst'], s['ssrc'], s['packets'], s['expected'] - s['packets'])
                      for c in t_doubled['calls'] for s in c['streams'])
        got = sorted((s['src'], s['dst'], s['ssrc'], s['packets'], s['lost']) for s in b['streams'])
        lost = sum(x[4] for x in want)
        check(got == want and lost > 0 and sum(s['duplicates'] for s in b['streams']) == 0,
              'doubled: %d streams with the packets written and the loss the truth gives (%d lost), no RTP '
              'duplicates; differing: %s' % (len(want), lost, [(g, w) for g, w in zip(got, want) if g != w][:2]))
        # the calls as the generator wrote them, not only as the clean capture reads
        tcalls = sorted((c['call_id'], c['state'], c['final_status'], len(c['messages'])) for c in t_doubled['calls'])
        gcalls = sorted((c['call_id'], c['state'], c['final_status'], c['messages']) for c in b['calls'])
        check(gcalls == tcalls, 'doubled: each call with the truth\'s state, final status and message count')
        k = analyze(exe, doubled, '--keep-duplicates')
        check(k['capture']['duplicates'] == 0 and sum(s['duplicates'] for s in k['streams']) > 0,
              '--keep-duplicates: copies analysed (RTP duplicates %d)' % sum(s['duplicates'] for s in k['streams']))
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
