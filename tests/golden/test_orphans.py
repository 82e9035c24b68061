#!/usr/bin/env python3
"""Media no SDP announced (docs/design.md: nDPI where signaling is silent):
- a real RTP stream with no SIP at all is reported as an orphan (call null), every packet
  counted from the first, figures as written;
- 50,000 UDP packets on high ports that only look like RTP (version 2, a new random
  "SSRC" each) are reported as nothing, and memory stays small: nDPI judges the flow once,
  not every pretend stream.

Usage: test_orphans.py PATH/TO/sipscope"""
import os
import random
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'gen'))
from pcapwrite import LT_ETHERNET, PcapWriter, ether, ipv4, udp  # noqa: E402
from sstest import Checks, analyze  # noqa: E402

T0 = 1_700_000_000 * 10**9


def main(exe):
    check = Checks()
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'o.pcap')
        w = PcapWriter(pcap, LT_ETHERNET)
        frames = []
        # a genuine stream: PCMA, 20 ms, 300 packets, one lost (seq 150)
        sent = 0
        for i in range(300):
            if i == 150:
                continue
            rtp = struct.pack('!BBHII', 0x80, 8, (4000 + i) & 0xFFFF, 1000 + 160 * i, 0x1234ABCD) + b'\xd5' * 160
            frames.append((T0 + i * 20_000_000, ether(ipv4('10.7.0.1', '10.7.0.2', 17, udp(30000, 40000, rtp)), 0x0800)))
            sent += 1
        # junk that looks like RTP: version 2, random everything else, on another flow
        for i in range(50000):
            junk = bytes([0x80 | rng.randrange(64)]) + rng.randbytes(rng.randrange(11, 200))
            frames.append((T0 + i * 100_000 + 7, ether(ipv4('10.8.0.1', '10.8.0.2', 17, udp(50000, 50002, junk)), 0x0800)))
        frames.sort(key=lambda f: f[0])
        for t, f in frames:
            w.write(t, f)
        w.close()

        p = subprocess.Popen([exe, 'analyze', '--json', '--no-progress', pcap], stdout=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        check(os.waitstatus_to_exitcode(status) == 0, 'analyze exit')
        check(ru.ru_maxrss < 150 * 1024, 'peak RSS %d KB (junk must not grow memory)' % ru.ru_maxrss)
        j = analyze(exe, pcap)
        st = j['streams']
        check(len(st) == 1, '%d streams, want the one real stream: %s' % (len(st), [(s['src'], s['dst']) for s in st][:5]))
        if st:
            s = st[0]
            check(s['src'] == '10.7.0.1:30000' and s['dst'] == '10.7.0.2:40000', 'its addresses')
            check(s['call'] is None, 'an orphan has no call')
            check(s['packets'] == sent and s['expected'] == 300 and s['lost'] == 1,
                  'packets %s expected %s lost %s' % (s['packets'], s['expected'], s['lost']))
            check(s['codec'] == 'PCMA' and s['ssrc'] == '0x1234abcd', 'codec and SSRC')
        check(j['capture']['rtp_packets'] == sent, 'rtp_packets %s' % j['capture']['rtp_packets'])
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
