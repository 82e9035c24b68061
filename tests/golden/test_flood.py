#!/usr/bin/env python3
"""An INVITE flood of 1,000,000 unique Call-IDs (tests/gen/calls.py flood) against a
10,000-call limit: the limit holds (evicted.calls counts exactly what it dropped), peak
memory stays under 120 MB, and the one well-formed call inside the flood is still
reported right, by the generator's truth. Under the sanitizer build (ASAN_OPTIONS set)
the flood is 100,000 and memory is not judged (ASan's shadow memory is not ours).

Usage: test_flood.py PATH/TO/sipscope"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402


def main(exe):
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        sanitized = 'ASAN_OPTIONS' in os.environ
        n, limit = (100000 if sanitized else 1000000), 10000
        pcap = os.path.join(tmp, 'flood.pcap')
        truth = generate('flood', pcap, os.path.join(tmp, 'flood.json'), '--invites', str(n))
        out = os.path.join(tmp, 'out.json')
        with open(out, 'w') as f:
            p = subprocess.Popen([exe, 'analyze', '--json', '--no-progress', '--max-calls', str(limit), pcap],
                                 stdout=f)
            _, status, ru = os.wait4(p.pid, 0)
        check(os.waitstatus_to_exitcode(status) == 0, 'analyze exit')
        if not sanitized:
            check(ru.ru_maxrss < 120 * 1024, 'peak RSS %d MB under the limit of 120' % (ru.ru_maxrss // 1024))
        print('%d INVITEs, limit %d: peak RSS %d MB' % (n, limit, ru.ru_maxrss // 1024))
        j = json.load(open(out))
        good = truth['good']
        # every call past the limit is evicted, counted; the flood's unanswered INVITEs make
        # way first, so the real call is never evicted: it frees its slot, uncounted, only
        # if its 64*T1 linger after the BYE runs out before the flood does
        linger = 32 * 10**9
        want_evicted = n + 1 - limit - (1 if good['end_ns'] + linger < truth['last_invite_ns'] else 0)
        checks = [
            (j['capture']['packets'] == truth['frames'], 'frames'),
            (len(j['calls']) == n + 1, '%d calls, want %d' % (len(j['calls']), n + 1)),
            (j['capture']['evicted'].get('calls') == want_evicted,
             'evicted.calls %s, want %d' % (j['capture']['evicted'].get('calls'), want_evicted)),
        ]
        mine = [c for c in j['calls'] if c['call_id'] == good['call_id']]
        checks.append((len(mine) == 1, 'the well-formed call is reported once'))
        if mine:
            c = mine[0]
            checks += [
                (c['state'] == 'completed' and c['final_status'] == 200, 'its state %s' % c['state']),
                (round(c['answer_time'] * 1e6) == round(good['answer_ns'] / 1000), 'its answer time'),
                (round(c['end_time'] * 1e6) == round(good['end_ns'] / 1000), 'its end time'),
                (c['messages'] == len(good['messages']), 'its messages'),
            ]
        flood_states = {c['state'] for c in j['calls'] if c['call_id'] != good['call_id']}
        checks.append((flood_states == {'trying'}, 'flood calls are all trying: %s' % flood_states))
        for ok, what in checks:
            check(ok, what)
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
