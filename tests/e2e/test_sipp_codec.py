#!/usr/bin/env python3
"""Real sipp, a wrong answer and the media that proves it (issue 21), on loopback.

sipp's built-in uas scenario (`-sn uas`) answers every offer with PCMU only; with
`-rtp_echo` it sends back the RTP it gets. Our UAC (uac_pcma.xml) offers PCMA and
telephone-event and plays PCMA, so offer and answer share no codec while both directions
carry PCMA for the whole call. dumpcap writes the exchange to a capture in the test's
temporary folder; tshark reads it for the truth (the offer's and the answer's formats, the
payload types of the RTP each way); `sipscope analyze --json` of it must raise exactly one
codec_mismatch, a warning (not critical: the audio worked), whose evidence lists those
payload types per direction and whose diagnosis says that the answer's SDP is wrong but
the media flowed in the offer's codec. Issue 24: the recorded speech both ways is heard as
speech (active share, speech level), with no tone and no false audio issue.
Skipped (77) without sipp, its sample, dumpcap/tshark, or the right to capture (not root).

Usage: test_sipp_codec.py PATH/TO/sipscope"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import SIPP_PCAP, Checks, analyze, poll, sipp_live_skip, udp_ports  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PCAP = SIPP_PCAP
IP = '127.0.87.21'  # this test's own loopback address: other tests capture on lo beside it
UAS_SIP, UAS_RTP, UAC_SIP, UAC_RTP = 5160, 16500, 5161, 16520


def tshark(cap, *args):
    return subprocess.run(['tshark', '-r', cap, *args], check=True, capture_output=True, text=True).stdout


def main(exe):
    rc = sipp_live_skip('dumpcap', 'tshark')
    if rc is not None:
        return rc
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, 'sipp.pcapng')
        dump = subprocess.Popen(['dumpcap', '-q', '-i', 'lo', '-f', 'udp and host %s' % IP, '-w', cap],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while not os.path.exists(cap) and time.time() < deadline:  # capturing once the file is there
            time.sleep(0.1)
        time.sleep(0.3)
        uas = subprocess.Popen(['sipp', '-sn', 'uas', '-rtp_echo', '-i', IP, '-p', str(UAS_SIP), '-mp', str(UAS_RTP),
                                '-m', '1', '-nostdin', '-trace_err'], cwd=tmp,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # the UAC starts once the UAS listens: a fixed wait lost the call on a loaded host
        poll(lambda: UAS_SIP in udp_ports() or uas.poll() is not None, deadline=30, every=0.05)
        try:
            uac = subprocess.run(['sipp', '%s:%d' % (IP, UAS_SIP), '-sf', os.path.join(HERE, 'uac_pcma.xml'),
                                  '-i', IP, '-p', str(UAC_SIP), '-mp', str(UAC_RTP), '-m', '1', '-nostdin',
                                  '-trace_err'], cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 timeout=60)
            check(uac.returncode == 0, 'sipp uac: the call succeeded (exit %d)' % uac.returncode)
            check(uas.wait(timeout=60) == 0, 'sipp uas: the call succeeded')
        finally:
            if uas.poll() is None:
                uas.kill()
            time.sleep(0.5)  # the last packets into the file
            dump.send_signal(signal.SIGINT)
            try:
                dump.wait(timeout=30)
            except subprocess.TimeoutExpired:
                dump.kill()
            dump.stderr.close()

        # the truth, from tshark: what each SDP offered, what each direction carried
        sdps = [l.split('\t') for l in tshark(cap, '-Y', 'sdp', '-T', 'fields', '-e', 'udp.srcport',
                                              '-e', 'sdp.media').splitlines()]
        offer = [m.split()[3:] for port, m in sdps if int(port) == UAC_SIP]
        answer = [m.split()[3:] for port, m in sdps if int(port) == UAS_SIP]
        check(offer and answer, 'tshark: an offer and an answer: %s' % sdps)
        offer_pts = [int(x) for x in offer[0]] if offer else []
        answer_pts = [int(x) for x in answer[0]] if answer else []
        check(offer_pts == [8, 101] and answer_pts == [0],
              'tshark: sipp offered PCMA and telephone-event, and got PCMU back: %s / %s' % (offer_pts, answer_pts))
        seen = {'caller_to_callee': set(), 'callee_to_caller': set()}
        for line in tshark(cap, '-o', 'rtp.heuristic_rtp:TRUE', '-Y', 'rtp', '-T', 'fields', '-e', 'udp.srcport',
                           '-e', 'udp.dstport', '-e', 'rtp.p_type').splitlines():
            sport, dport, pt = (int(x) for x in line.split('\t'))
            if (sport, dport) == (UAC_RTP, UAS_RTP):
                seen['caller_to_callee'].add(pt)
            elif (sport, dport) == (UAS_RTP, UAC_RTP):
                seen['callee_to_caller'].add(pt)
        truth = {k: sorted(v) for k, v in seen.items()}
        check(truth['caller_to_callee'] and truth['callee_to_caller']
              and all(set(v) <= set(offer_pts) for v in truth.values()),
              'tshark: RTP both ways, in payload types of the offer: %s' % truth)

        j = analyze(exe, cap)
        calls = j['calls']
        check(len(calls) == 1 and calls[0]['state'] == 'completed', 'one completed call: %s'
              % [(c['call_id'], c['state']) for c in calls])
        mm = [i for i in j['issues'] if i['kind'] == 'codec_mismatch']
        check(len(mm) == 1, 'one codec_mismatch: %s' % [(i['kind'], i['severity']) for i in j['issues']])
        if mm:
            i = mm[0]
            ev = i['evidence']
            check(i['severity'] == 'warning', 'codec_mismatch is a warning, the media flowed: %s' % i['severity'])
            check(ev.get('rtp_payload_types') == truth,
                  'evidence: payload types per direction %s, tshark %s' % (ev.get('rtp_payload_types'), truth))
            check(ev.get('offer_payload_types') == offer_pts and ev.get('answer_payload_types') == answer_pts,
                  'evidence: the offer\'s and the answer\'s payload types as tshark read them: %s' % ev)
            check("answer's SDP is wrong" in i['diagnosis'] and "offer's codec" in i['diagnosis'],
                  'diagnosis: the answer is wrong, the media flowed in the offer\'s codec: %s' % i['diagnosis'])
        # issue 24: sipp's g711a.pcap is a recording of speech, played one way and echoed
        # back: both directions are speech, and nothing is said about silence or tones
        for s in j['streams']:
            a = s.get('audio') or {}
            check(a.get('codec') == 'PCMA' and (a.get('active_pct') or 0) >= 20
                  and a.get('speech_level_dbov') is not None and -45 < a['speech_level_dbov'] < -3,
                  'audio %s -> %s: speech (active %s %%, speech level %s dBov, %s)'
                  % (s['src'], s['dst'], a.get('active_pct'), a.get('speech_level_dbov'), s.get('audio_unavailable')))
            check(a.get('tones') == [], 'audio %s -> %s: no tone in recorded speech: %s' % (s['src'], s['dst'], a.get('tones')))
        heard = [i['kind'] for i in j['issues'] if i['kind'] in ('one_way_audio', 'ringback_silence', 'no_audio')]
        check(not heard, 'no false audio issue on speech both ways: %s' % heard)
        others = [(i['kind'], i['severity']) for i in j['issues'] if i['severity'] == 'critical']
        check(not others, 'nothing critical about a call whose audio worked: %s' % others)
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
