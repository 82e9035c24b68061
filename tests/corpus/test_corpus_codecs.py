#!/usr/bin/env python3
"""codec_mismatch on every capture in ../shared/corpus against tshark (issue 21): for each
call whose offer and answer share no codec, tshark's SDP (the INVITE's offer, the first
answer in a response; formats and rtpmap names) and its RTP between the two announced
endpoints (each direction's payload types) decide the severity, derived here from
tshark's output alone:

- warning when RTP went both ways, each only in payload types of the offer, with one of
  its audio codecs (not telephone-event, not CN) among them: the answer is wrong, the
  audio worked;
- critical otherwise (no RTP, one direction, a type the offer did not list).
The evidence must name tshark's offer and answer payload types, and per direction payload
types that tshark saw (a stream bound to another call by a shared port may be missing, so
a subset, never empty when the RTP flowed). sipp_uac_pcap_echo.pcap holds 12 such calls:
sipp's uas answers PCMU to a PCMA offer and echoes the PCMA. Skips (77) without the corpus.

Usage: test_corpus_codecs.py PATH/TO/sipscope"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, corpus, skip  # noqa: E402

STATIC_AUDIO = {0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18}  # RFC 3551 table 4


def tshark(pcap, *args):
    return subprocess.run(['tshark', '-r', pcap, *args], capture_output=True, text=True).stdout


def sdps(pcap):
    """Call-ID -> (offer, answer): each (address, port, [payload types], {pt: name})."""
    out = {}
    for line in tshark(pcap, '-Y', 'sdp', '-T', 'fields', '-E', 'separator=|', '-e', 'sip.Call-ID', '-e', 'sip.Method',
                       '-e', 'sip.Status-Code', '-e', 'sdp.connection_info', '-e', 'sdp.media',
                       '-e', 'sdp.media_attr').splitlines():
        f = line.split('|')
        if len(f) < 6 or not f[4].startswith('audio '):
            continue
        cid, method, status, conn, media, attrs = f[:6]
        m = media.split(',')[0].split()
        names = {int(a.group(1)): a.group(2) for a in re.finditer(r'rtpmap:(\d+) ([^/,]+)', attrs)}
        sd = (conn.split(',')[0].split()[-1], int(m[1]), [int(x) for x in m[3:] if x.isdigit()], names)
        o, a = out.get(cid, (None, None))
        if method == 'INVITE' and o is None:
            o = sd
        elif status and o is not None and a is None:
            a = sd
        out[cid] = (o, a)
    return out


def rtp(pcap):
    """(src ip, src port, dst ip, dst port) -> payload types."""
    flows = {}
    for line in tshark(pcap, '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp && !rtcp', '-T', 'fields', '-e', 'ip.src',
                       '-e', 'udp.srcport', '-e', 'ip.dst', '-e', 'udp.dstport', '-e', 'rtp.p_type').splitlines():
        f = line.split('\t')
        if len(f) == 5 and all(f):
            flows.setdefault((f[0], int(f[1]), f[2], int(f[3])), set()).add(int(f[4].split(',')[0]))
    return flows


def audio(pt, names):
    n = names.get(pt, '').lower()
    return n not in ('telephone-event', 'cn') and pt != 13 and (pt in STATIC_AUDIO or bool(n))


def main(exe):
    c = corpus()
    if not c:
        return skip('no corpus')
    check = Checks()
    seen = 0
    for name in c[1]:
        pcap = os.path.join(c[0], 'pcap', name)
        try:
            j = analyze(exe, pcap)
        except subprocess.CalledProcessError:
            continue  # hostile captures: not this test's
        mm = [i for i in j['issues'] if i['kind'] == 'codec_mismatch' and 'status' not in i['evidence']]
        if not mm:
            continue
        calls = {k['id']: k for k in j['calls']}
        sd, flows = sdps(pcap), rtp(pcap)
        for i in mm:
            seen += 1
            cid = calls[i['call']]['call_id']
            o, a = sd.get(cid, (None, None))
            if not check(o and a, '%s %s: tshark finds its offer and answer' % (name, cid)):
                continue
            ab = flows.get((o[0], o[1], a[0], a[1]), set())
            ba = flows.get((a[0], a[1], o[0], o[1]), set())
            ok = all(d and d <= set(o[2]) and any(audio(p, o[3]) for p in d) for d in (ab, ba))
            want = 'warning' if ok else 'critical'
            check(i['severity'] == want, '%s %s: %s, tshark\'s RTP %s / %s against the offer %s says %s'
                  % (name, cid, i['severity'], sorted(ab), sorted(ba), o[2], want))
            ev = i['evidence']
            check(ev.get('offer_payload_types') == o[2] and ev.get('answer_payload_types') == a[2],
                  '%s %s: offer %s and answer %s payload types, tshark %s / %s' % (
                      name, cid, ev.get('offer_payload_types'), ev.get('answer_payload_types'), o[2], a[2]))
            got = ev.get('rtp_payload_types', {})
            check(set(got.get('caller_to_callee', [])) <= ab and set(got.get('callee_to_caller', [])) <= ba
                  and (not ok or (got.get('caller_to_callee') and got.get('callee_to_caller'))),
                  '%s %s: payload types each way %s within tshark\'s %s / %s' % (name, cid, got, sorted(ab),
                                                                                sorted(ba)))
    print('%d codec mismatches checked' % seen)
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
