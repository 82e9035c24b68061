#!/usr/bin/env python3
"""Calls end to end on generated captures: every call and every SIP message that
tests/gen/calls.py wrote must come back as its truth says — Call-ID, state, final status,
invite/ringing/answer/end times to the microsecond, who hung up, caller and callee,
users, message count and retransmissions; each message with its call and whether it is
a retransmission.

Usage: test_calls.py PATH/TO/sipscope"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate  # noqa: E402
check = Checks()


def us(ns):
    return None if ns is None else round(ns / 1000)


def secs_us(t):
    return None if t is None else round(t * 1e6)


def run_case(exe, tmp, name, **kw):
    pcap = os.path.join(tmp, name + '.pcap')
    args = []
    for k, v in kw.items():
        args += ['--' + k, str(v)]
    truth = generate('calls', pcap, os.path.join(tmp, name + '.json'), *args)
    out = analyze(exe, pcap, '--messages')
    calls = {c['call_id']: c for c in out['calls']}
    check(len(out['calls']) == len(truth['calls']), '%s: %d calls, truth %d' % (name, len(out['calls']), len(truth['calls'])))
    msgs = {m['frame']: m for m in out['messages']}
    for t in truth['calls']:
        c = calls.get(t['call_id'])
        if not c:
            check(False, '%s: call %s missing' % (name, t['call_id']))
            continue
        w = '%s %s' % (name, t['call_id'])
        check(c['state'] == t['state'], '%s: state %s, truth %s' % (w, c['state'], t['state']))
        check(c['final_status'] == t['final_status'], '%s: final %s' % (w, c['final_status']))
        check(secs_us(c['invite_time']) == us(t['invite_ns']), '%s: invite_time' % w)
        check(secs_us(c['ringing_time']) == us(t['ringing_ns']), '%s: ringing_time' % w)
        check(secs_us(c['answer_time']) == us(t['answer_ns']), '%s: answer_time %s vs %s' % (w, secs_us(c['answer_time']), us(t['answer_ns'])))
        check(secs_us(c['end_time']) == us(t['end_ns']), '%s: end_time %s vs %s' % (w, secs_us(c['end_time']), us(t['end_ns'])))
        check(c['caller'] == t['caller'] and c['callee'] == t['callee'], '%s: caller/callee' % w)
        check(c['from']['user'] == t['from_user'] and c['to']['user'] == t['to_user'], '%s: users' % w)
        check(c['ended_by'] == ('caller' if t['state'] in ('completed', 'cancelled') else None),
              '%s: ended_by %s' % (w, c['ended_by']))
        check(c['messages'] == len(t['messages']), '%s: %d messages, truth %d' % (w, c['messages'], len(t['messages'])))
        nre = sum(m['retransmission'] for m in t['messages'])
        check(c['retransmissions'] == nre, '%s: %d retransmissions, truth %d' % (w, c['retransmissions'], nre))
        pdd = (t['ringing_ns'] - t['invite_ns']) / 1e6
        check(c['pdd_ms'] is not None and abs(c['pdd_ms'] - pdd) < 0.002, '%s: pdd %s vs %s' % (w, c['pdd_ms'], pdd))
        # setup and duration from the generator's times (issue 22: checked nowhere before)
        setup = (t['answer_ns'] - t['invite_ns']) / 1e6 if t['answer_ns'] is not None else None
        check(setup is None and c['setup_ms'] is None or
              setup is not None and c['setup_ms'] is not None and abs(c['setup_ms'] - setup) < 0.002,
              '%s: setup_ms %s vs %s' % (w, c['setup_ms'], setup))
        dur = (t['end_ns'] - t['answer_ns']) / 1e9 if t['answer_ns'] is not None and t['end_ns'] else None
        check(dur is None and c['duration_s'] is None or
              dur is not None and c['duration_s'] is not None and abs(c['duration_s'] - dur) < 2e-6,
              '%s: duration_s %s vs %s' % (w, c['duration_s'], dur))
        # its path: one hop, the caller's INVITE to the callee, with the copies Timer A sent
        # before anything answered and the answers that came back on it (issue 21: the first
        # segment is held apart until an answer comes, and must come out the same)
        inv = [m for m in t['messages'] if m['label'] == 'INVITE']
        resp = {m['label']: m for m in t['messages'] if not m['retransmission'] and m['label'][0].isdigit()}
        path = c.get('path') or []
        s0 = path[0] if path else {}
        check(len(path) == 1 and s0['from'] == inv[0]['src'] and s0['to'] == inv[0]['dst']
              and secs_us(s0['time']) == us(inv[0]['time_ns']), '%s: path %s' % (w, path))
        check(s0.get('retransmissions') == sum(m['retransmission'] for m in inv),
              '%s: path retransmissions %s, truth %d' % (w, s0.get('retransmissions'), len(inv) - 1))
        check(s0.get('provisional_status') == 180 and s0.get('final_status') == t['final_status'],
              '%s: path answers %s %s' % (w, s0.get('provisional_status'), s0.get('final_status')))
        for label, field in (('100', 'trying_ms'), ('180', 'provisional_ms')):
            want = (resp[label]['time_ns'] - inv[0]['time_ns']) / 1e6
            check(s0.get(field) is not None and abs(s0[field] - want) < 0.002,
                  '%s: path %s %s, truth %s' % (w, field, s0.get(field), want))
        for m in t['messages']:
            g = msgs.get(m['frame'])
            check(g is not None and g['call'] == c['id'] and g['retransmission'] == m['retransmission'],
                  '%s: frame %d (%s) call %s retransmission %s, truth %s' % (
                      w, m['frame'], m['label'], g and g['call'], g and g['retransmission'], m['retransmission']))
    check(len(out['messages']) == truth['sip_messages'], '%s: SIP message count' % name)

    # RTP streams: every one the generator wrote, bound to its call by the SDP
    streams = {(x['src'], x['dst'], x['ssrc']): x for x in out['streams']}
    ids = {c['call_id']: c['id'] for c in out['calls']}
    want = [(t, st) for t in truth['calls'] for st in t['streams']]
    check(len(streams) == len(want), '%s: %d streams, truth %d' % (name, len(streams), len(want)))
    for t, st in want:
        g = streams.get((st['src'], st['dst'], st['ssrc']))
        w = '%s %s -> %s' % (name, st['src'], st['dst'])
        if not check(g is not None, w + ': missing'):
            continue
        check(g['call'] == ids.get(t['call_id']), w + ': call %s' % g['call'])
        check(g['packets'] == st['packets'], w + ': packets %s, truth %s' % (g['packets'], st['packets']))
        check(g['expected'] == st['expected'] and g['lost'] == st['expected'] - st['packets'],
              w + ': expected %s lost %s, truth %s' % (g['expected'], g['lost'], st['expected']))
        check(g['codec'] == st['codec'] and g['clock_rate'] == 8000, w + ': codec %s' % g['codec'])
        check(secs_us(g['first_time']) == us(st['first_ns']) and secs_us(g['last_time']) == us(st['last_ns']),
              w + ': first/last time')
    for c in out['calls']:  # a call lists exactly the streams that name it, in order
        named = [x['id'] for x in out['streams'] if x['call'] == c['id']]
        check(c['streams'] == named, '%s %s: streams %s, named by %s' % (name, c['id'], c['streams'], named))
    check(out['capture']['rtp_packets'] == truth['rtp_packets'], '%s: rtp_packets' % name)
    check(out['capture']['rtcp_packets'] == truth['rtcp_packets'], '%s: rtcp_packets %s, truth %s' % (
        name, out['capture']['rtcp_packets'], truth['rtcp_packets']))

    # stats: the KPIs the generator wrote from the outcomes it scripted (issue 22: no
    # longer metrics/kpi.c's formulas copied here); PDD percentiles by nearest rank over
    # whole milliseconds (docs/output.md: integers)
    st, tc, k = out['stats'], truth['calls'], truth['kpi']
    pdds = [int(x) for x in k['pdd_ms']]
    rank = lambda p: pdds[max(1, -(-len(pdds) * p // 100)) - 1]
    check(st['calls'] == k['calls'] and st['answered'] == k['answered'], '%s: calls/answered' % name)
    check(abs(st['asr_pct'] - k['asr_pct']) < 1e-9, '%s: ASR %s, truth %s' % (name, st['asr_pct'], k['asr_pct']))
    check(abs(st['ner_pct'] - k['ner_pct']) < 1e-9, '%s: NER %s, truth %s' % (name, st['ner_pct'], k['ner_pct']))
    check(abs(st['acd_s'] - k['acd_s']) < 1e-6, '%s: ACD %s, truth %s' % (name, st['acd_s'], k['acd_s']))
    check(st['pdd_ms'] == {'p50': rank(50), 'p95': rank(95)}, '%s: PDD %s vs %s/%s' % (name, st['pdd_ms'], rank(50), rank(95)))
    nre = sum(m['retransmission'] for t in tc for m in t['messages'])
    check(st['retransmissions'] == nre, '%s: stats retransmissions %s, truth %d' % (name, st['retransmissions'], nre))


def main(exe):
    with tempfile.TemporaryDirectory() as tmp:
        run_case(exe, tmp, 'mixed', calls=24, duration=6, concurrency=8, seed=11,
                 outcomes='answered,busy,cancelled,answered-retrans')
        run_case(exe, tmp, 'lossy', calls=6, duration=4, concurrency=6, seed=12, loss=0.05,
                 outcomes='answered-retrans,answered')
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
