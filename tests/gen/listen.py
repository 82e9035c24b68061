#!/usr/bin/env python3
"""A call with known audio for the WAV export (issue 24, "Listen"), standard library only.

  listen.py -o FILE.pcap --truth FILE.json

One answered call (calls.py's SIP and addresses): caller -> callee RTP carries a 1 kHz tone
at -20 dBov (G.711 µ-law, encoded by audio.py from ITU-T G.711, not by sipscope) with a 1 s
gap in which no packet is sent; callee -> caller carries digital silence (0xFF). The truth
gives the media span (first packet to the end of the last one), the gap's times relative
to the first packet, and the tone's frequency and level."""
import argparse
import json
import math
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import audio  # noqa: E402
from calls import MS, SEC, Call, Flow  # noqa: E402
from pcapwrite import PcapWriter  # noqa: E402

TONE_HZ, TONE_DBOV = 1000, -20.0
TALK_S, GAP_MS = 4, 1000
JITTER_US = 2000


class ListenCall(Call):
    """calls.py's call, with real payloads: the tone one way, silence the other."""

    def _stream(self, forward, t_start, t_end):
        flow = Flow(self.caller_ip, self.rtp_port_a, self.callee_ip, self.rtp_port_b) if forward \
            else Flow(self.callee_ip, self.rtp_port_b, self.caller_ip, self.rtp_port_a)
        ssrc, seq0, ts0 = self.rng.getrandbits(32), self.rng.randrange(65536), self.rng.getrandbits(32)
        n = int((t_end - t_start) // (20 * MS))
        if forward:
            pcm = audio.to16(audio.tone([TONE_HZ], n * 20, TONE_DBOV))
            codes = audio.encode(pcm, 'ulaw')
        else:
            codes = bytes([audio.ULAW_SILENCE]) * (n * 160)
        gap = range(n // 2, n // 2 + GAP_MS // 20) if forward else range(0)
        st = dict(forward=forward, first_ns=None, last_ns=None, packets=0,
                  src='%s:%d' % (flow.src, flow.sport), dst='%s:%d' % (flow.dst, flow.dport))
        self.truth['streams'].append(st)
        for i in range(n):
            # network jitter of up to 2 ms either way: samples go where the RTP timestamp
            # says, so the tone stays whole (RFC 3550 §5.1: the timestamp is the sampling instant)
            t = t_start + i * 20 * MS + self.rng.randrange(-JITTER_US, JITTER_US + 1) * 1000
            if i == gap.start:
                st['gap_start_ns'] = t_start + i * 20 * MS
            if i in gap:
                st['gap_end_ns'] = t_start + (i + 1) * 20 * MS
                continue
            hdr = struct.pack('!BBHII', 0x80, (0x80 if i == 0 else 0), (seq0 + i) & 0xFFFF,
                              (ts0 + i * 160) & 0xFFFFFFFF, ssrc)
            st['first_ns'] = st['first_ns'] if st['first_ns'] is not None else t
            st['last_ns'] = t
            st['packets'] += 1
            yield (t, flow.frame(hdr + codes[i * 160:(i + 1) * 160]), None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('-o', required=True)
    ap.add_argument('--truth', required=True)
    a = ap.parse_args()
    call = ListenCall(0, 1_700_000_000 * SEC, TALK_S, 'answered', 0.0, 0, random.Random(24))
    w = PcapWriter(a.o, 1, nano=True)
    for t, frame, msg in call.events():
        w.write(t, frame)
    w.close()
    fw, bw = call.truth['streams']
    first = min(fw['first_ns'], bw['first_ns'])
    end = max(fw['last_ns'], bw['last_ns']) + 20 * MS
    truth = dict(call='call-1', media_first=first / 1e9, media_span_s=(end - first) / 1e9,
                 tone_hz=TONE_HZ, tone_dbov=TONE_DBOV,
                 # in the caller's channel, relative to the first packet of the call
                 gap_s=[(fw['gap_start_ns'] - first) / 1e9, (fw['gap_end_ns'] - first) / 1e9],
                 tone_s=[(fw['first_ns'] - first) / 1e9, (fw['last_ns'] + 20 * MS - first) / 1e9],
                 silence_s=[(bw['first_ns'] - first) / 1e9, (bw['last_ns'] + 20 * MS - first) / 1e9])
    with open(a.truth, 'w') as f:
        json.dump(truth, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
