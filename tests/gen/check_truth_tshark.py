#!/usr/bin/env python3
"""Checks the generator's decoding truth against tshark, an independent reader.

For every case, the frames where tshark finds a well-formed UDP datagram or TCP segment
must be the frames where the truth says sipscope delivers one, except for the deliberate
differences listed in DEVIATIONS, each with its reason. Exit 77 (skip) without tshark."""
import glob
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import skip  # noqa: E402

# case -> {frame: why sipscope and tshark differ about that frame (either way)}
DEVIATIONS = {
    'frag4': {16: 'RFC 5722: overlapping fragments that disagree drop the whole datagram; '
                  'tshark keeps the first copy'},
    'frag_timeout': {3: 'pieces 40 s apart: sipscope times reassembly out after 30 s of packet '
                        'time (as Linux does); tshark waits forever'},
    'tunnels': {3: 'IP-in-IP nested 7 deep: sipscope follows 4 levels',
                14: 'TZSP carrying 802.11 (encapsulation 18), which sipscope does not follow: it counts '
                    'tzsp_bad and hands the datagram on as UDP; tshark reads the 802.11 inside as malformed'},
    'hep': {5: 'a HEPv3 packet with a broken chunk: tshark marks the frame malformed, its UDP '
               'datagram is sound and sipscope delivers it (and counts hep_bad_chunk)'},
    'dns': {6: 'a DNS message cut after 6 bytes: tshark marks the frame malformed, its UDP '
               'datagram is sound and sipscope delivers it (and counts dns_truncated)'},
    'truncated': {3: 'a fragment cut by snaplen cannot be reassembled; tshark shows its UDP header',
                  5: 'IPv4 total length beyond the frame without a snaplen cut: malformed, rejected',
                  9: 'TCP data offset 3 < 5 (RFC 9293 §3.1): malformed, rejected',
                  10: 'IPv6 payload length beyond the frame without a snaplen cut: malformed, rejected'},
}


# case -> {(frame, Call-ID): why only sipscope reports that SIP message}; tshark's
# dissections of non-SIP bytes as SIP (no Call-ID) are not counted as messages.
SIP_DEVIATIONS = {
    'tcp_sip': {(8, 'tcp-4'): 'tshark 4.0 does not reassemble out-of-order TCP segments '
                              '(tcp.reassemble_out_of_order is off); an RFC 9293 receiver does',
                (14, 'tcp-7'): 'tshark reads the junk before tcp-7 as SIP and loses the message; '
                               'sipscope resynchronises on the next start line',
                (15, 'tcp-8'): 'the capture starts mid-message: tshark reads the tail as SIP and '
                               'loses the message that starts inside the same segment'},
}


# cases whose SIP tshark cannot read at all, and why
SIP_UNCHECKED = {
    'hep': 'tshark 4.0 has no HEP dissector; this truth rests on the HEP format alone',
}


def tshark_sip(path):
    out = subprocess.run(['tshark', '-n', '-r', path, '-Y', 'sip', '-T', 'fields', '-E', 'occurrence=a',
                          '-E', 'aggregator=|', '-e', 'frame.number', '-e', 'sip.Call-ID'],
                         capture_output=True, text=True, check=True).stdout
    res = set()
    for line in out.splitlines():
        f = line.split('\t')
        for cid in f[1].split('|') if len(f) > 1 and f[1] else []:
            res.add((int(f[0]), cid))
    return res


def tshark_frames(path):
    out = subprocess.run(['tshark', '-n', '-r', path, '-T', 'fields', '-e', 'frame.number',
                          '-e', 'udp.srcport', '-e', 'tcp.srcport', '-e', '_ws.malformed'],
                         capture_output=True, text=True, check=True).stdout
    frames = []
    for line in out.splitlines():
        c = line.split('\t')
        if (c[1] or c[2]) and not c[3]:
            frames.append(int(c[0]))
    return frames


def main(casedir):
    if not shutil.which('tshark'):
        return skip('tshark not installed')
    bad = checked = 0
    for tf in sorted(glob.glob(os.path.join(casedir, '*.truth.json'))):
        t = json.load(open(tf))
        if len(t['files']) != 1:
            continue  # merged inputs: tshark reads one file at a time
        name = os.path.basename(tf)[:-len('.truth.json')]
        checked += 1
        ts = tshark_frames(os.path.join(casedir, t['files'][0]))
        dev = DEVIATIONS.get(name, {})
        ours = [d['frame'] for d in t['deliveries']]
        want = sorted(set(ts) ^ set(dev))  # each deviation flips one frame, either way
        unused = set()
        sip_note = ''
        if 'sip' in t and name in SIP_UNCHECKED:
            sip_note = ', SIP not checked: ' + SIP_UNCHECKED[name]
        elif 'sip' in t:
            ours_sip = {(m['frame'], m['call_id']) for m in t['sip']}
            sdev = SIP_DEVIATIONS.get(name, {})
            tsip = tshark_sip(os.path.join(casedir, t['files'][0]))
            if tsip | set(sdev) != ours_sip or tsip & set(sdev):
                unused = unused | {'SIP: tshark %s, truth %s' % (sorted(tsip), sorted(ours_sip))}
            sip_note = ', %d SIP messages (%d deviations)' % (len(ours_sip), len(sdev))
        if want != ours or unused:
            bad += 1
            print('%s: tshark %s (less deviations: %s), truth %s%s'
                  % (name, ts, want, ours, ', also: %s' % sorted(unused, key=str) if unused else ''))
        else:
            print('%s: agrees with tshark (%d frames, %d deviations%s)' % (name, len(ours), len(dev), sip_note))
    print('%d passed, %d failed' % (checked - bad, bad))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
