#!/usr/bin/env python3
"""sipscope's own capture generator (standard library only).

  sipgen.py cases OUTDIR
      every decoding case (link types, VLAN/MPLS, IPv6 extension headers, tunnels,
      fragments, truncation, timestamps, merging) as OUTDIR/<case>.pcap plus
      OUTDIR/<case>.truth.json
  sipgen.py calls -o FILE.pcap [--truth FILE.json] [--calls N] [--duration S]
                  [--concurrency C] [--loss P] [--seed N] [--outcomes a,b,...] [--gap-ms G] [--display NAME]
                  [--trying REASON] [--callees N] [--start EPOCH_S]
                  [--codecs PCMU,PCMA,G729] [--mirror] [--srtp SUITE]
      SIP calls with RTP/RTCP; the truth file lists every call, message frame and stream;
      --mirror writes every frame twice, as a mirror port copying both sides of a path
  sipgen.py flood -o FILE.pcap [--truth FILE.json] [--invites N] [--sources N] [--rate N] [--seed N]
      an INVITE flood with unique Call-IDs, each with SDP (500,000 by default, from 60,000
      sources, 100,000 a second), one well-formed call with RTP both ways in the middle
  sipgen.py registrations -o FILE.pcap --truth FILE.json
      REGISTER flows with known outcomes (challenge, unregister, failure, loop, expiry)
  sipgen.py hostile KIND -o FILE.pcap --truth FILE.json [--seed N]
      hostile traffic with one well-formed call in its middle (tests/gen/hostile.py): KIND
      is register_flood, rtp_ports, frag_never, tcp_partial, content_length, many_headers,
      nested_multipart or sdp_many_m
  sipgen.py regstorm -o FILE.pcap [--phones N]
      a REGISTER storm: N phones register with a digest challenge (4 messages each)
  sipgen.py scenarios -o FILE.pcap --truth FILE.json
      call scenarios: ringing/early media/unfinished at the end, 404, 503, Timer B, CANCEL
      racing 200, PRACK, hold by re-INVITE, forking, INVITE challenge, REFER, B2BUA legs
  sipgen.py security -o FILE.pcap --truth FILE.json
      SIP scans, password guessing, a hijacked binding and toll-fraud bursts, and their
      twins: a busy PBX, a phone changing Wi-Fi, a call centre (tests/gen/security.py);
      --scan-flood N: a scan from N addresses, one real sweep through it
  sipgen.py issues -o FILE.pcap --truth FILE.json
      one scenario per issue kind and a twin that must not raise it (tests/gen/issues.py)
  sipgen.py audio -o FILE.pcap --truth FILE.json
      calls whose RTP carries real G.711 audio, each with a twin (tests/gen/hear.py):
      silent early media after a 183 / NA ringback; the callee's audio silence while the
      caller speaks / speech both ways
  sipgen.py paths -o FILE.pcap --truth FILE.json [--mirror] [--hep | --hep-only]
      calls through proxies with DNS look-ups beside them: per-hop holding times, slow and
      failed look-ups, a proxy's 408 at Timer B, each with a twin (tests/gen/paths.py);
      --hep adds each proxy's SIP as HEPv3 beside the wire, --hep-only instead of it
  sipgen.py delaystep -o FILE.pcap --truth FILE.json
      a call whose RTP steps 100 ms later once, 2 s in, and its twin with sustained
      +-45 ms jitter (tests/gen/delaystep.py)
  sipgen.py sample DIR
      the bundled sample: DIR/sample.pcap and DIR/sample.truth.json
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import calls as calls_mod  # noqa: E402
import decode_cases  # noqa: E402
import delaystep  # noqa: E402
import hostile  # noqa: E402
import registrations  # noqa: E402
import hear  # noqa: E402
import issues  # noqa: E402
import paths  # noqa: E402
import scenarios  # noqa: E402
import security  # noqa: E402
import xprobe  # noqa: E402
from pcapwrite import LT_ETHERNET, HepTraceWriter, MirrorWriter, PcapWriter  # noqa: E402


def write_calls(path, truth_path, mirror=False, **kw):
    w = PcapWriter(path, LT_ETHERNET)
    m = MirrorWriter(w.write, kw.get('seed', 1)) if mirror else None
    truth = calls_mod.generate(m.write if m else w.write, **kw)
    if m:  # every frame twice: the truth's frame numbers are the first copies'
        m.close()
        for c in truth['calls']:
            for msg in c['messages']:
                msg['frame'] = m.frame_map[msg['frame']]
        truth['mirror_copies'] = truth['frames']
        truth['frames'] *= 2
    w.close()
    if truth_path:
        with open(truth_path, 'w') as f:
            json.dump(truth, f, indent=1)
    return truth


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('cases')
    c.add_argument('outdir')
    c.add_argument('--stamp', help='touch this file when done (for the build system)')
    k = sub.add_parser('calls')
    k.add_argument('-o', '--output', required=True)
    k.add_argument('--truth')
    k.add_argument('--calls', type=int, default=10)
    k.add_argument('--duration', type=int, default=30, help='seconds of media per answered call')
    k.add_argument('--concurrency', type=int, default=5)
    k.add_argument('--loss', type=float, default=0.0, help='share of RTP packets dropped')
    k.add_argument('--seed', type=int, default=1)
    k.add_argument('--outcomes', default='answered',
                   help='comma list cycled over the calls: answered,busy,cancelled,unavailable (503)')
    k.add_argument('--callees', type=int, help='N destinations (To user and address) cycled over the calls')
    k.add_argument('--start', type=float, default=1_700_000_000, help='the first INVITE (epoch s)')
    k.add_argument('--gap-ms', type=float, help='milliseconds between call starts (default: duration/concurrency)')
    k.add_argument('--display', help="the first call's From display name (markup, for the UI's escaping test)")
    k.add_argument('--trying', help="every 100's reason phrase (default Trying)")
    k.add_argument('--codecs', default='PCMU,PCMA', help='comma list cycled over the calls: PCMU,PCMA,G729')
    k.add_argument('--mirror', action='store_true',
                   help='every frame twice, as a mirror port copying both sides of a path shows it')
    k.add_argument('--srtp', choices=sorted(calls_mod.SRTP_SUITES),
                   help='SDP offers RTP/SAVP with an a=crypto line of that suite, each side its own '
                        'key (in the truth, per stream); the media stays clear for a test to protect')
    f = sub.add_parser('flood')
    f.add_argument('-o', '--output', required=True)
    f.add_argument('--truth')
    f.add_argument('--invites', type=int, default=500000)
    f.add_argument('--sources', type=int, default=60000, help='distinct source addresses')
    f.add_argument('--rate', type=int, default=100000, help='INVITEs per second')
    f.add_argument('--seed', type=int, default=1)
    h = sub.add_parser('hostile')
    h.add_argument('kind', choices=sorted(hostile.KINDS))
    h.add_argument('-o', '--output', required=True)
    h.add_argument('--truth', required=True)
    h.add_argument('--seed', type=int, default=1)
    rs = sub.add_parser('regstorm')
    rs.add_argument('-o', '--output', required=True)
    rs.add_argument('--phones', type=int, default=25000)
    r = sub.add_parser('registrations')
    r.add_argument('-o', '--output', required=True)
    r.add_argument('--truth', required=True)
    se = sub.add_parser('security')
    se.add_argument('-o', '--output', required=True)
    se.add_argument('--truth', required=True)
    se.add_argument('--scan-flood', type=int, metavar='N',
                    help='instead: a scan from N addresses with one real sweep through it')
    se.add_argument('--only', choices=[st[0] for st in security.STEPS],
                    help='only this scenario (its truth names only its issues)')
    sc = sub.add_parser('scenarios')
    sc.add_argument('-o', '--output', required=True)
    sc.add_argument('--truth', required=True)
    xp = sub.add_parser('xprobe', help='a B2BUA call seen as two legs by two probes (tests/gen/xprobe.py)')
    xp.add_argument('-o', '--output', required=True, help="probe A's capture (the caller's side)")
    xp.add_argument('--output-b', required=True, help="probe B's capture (the callee's side)")
    xp.add_argument('--truth', required=True)
    au = sub.add_parser('audio')
    au.add_argument('-o', '--output', required=True)
    au.add_argument('--truth', required=True)
    i = sub.add_parser('issues')
    i.add_argument('-o', '--output', required=True)
    i.add_argument('--truth', required=True)
    pa = sub.add_parser('paths')
    pa.add_argument('-o', '--output', required=True)
    pa.add_argument('--truth', required=True)
    pa.add_argument('--mirror', action='store_true')
    pa.add_argument('--hep', action='store_true',
                    help="beside the wire, each proxy's SIP as HEPv3, as Kamailio's siptrace sends it")
    pa.add_argument('--hep-only', action='store_true',
                    help='the HEP copies instead of the wire frames they stand for')
    ds = sub.add_parser('delaystep')
    ds.add_argument('-o', '--output', required=True)
    ds.add_argument('--truth', required=True)
    s = sub.add_parser('sample')
    s.add_argument('dir')
    a = ap.parse_args(argv)

    if a.cmd == 'cases':
        decode_cases.write_all(a.outdir)
        if a.stamp:
            open(a.stamp, 'w').close()
    elif a.cmd == 'calls':
        t = write_calls(a.output, a.truth, calls=a.calls, duration=a.duration,
                        concurrency=a.concurrency, seed=a.seed, loss=a.loss,
                        outcomes=a.outcomes.split(','), gap_ms=a.gap_ms,
                        display=a.display, codecs=a.codecs.split(','), mirror=a.mirror,
                        trying=a.trying, srtp=a.srtp, callees=a.callees,
                        start_ns=int(a.start * 1e6) * 1000)
        print('%s: %d frames, %d calls, %d SIP messages, %d RTP packets'
              % (a.output, t['frames'], len(t['calls']), t['sip_messages'], t['rtp_packets']), file=sys.stderr)
    elif a.cmd == 'flood':
        w = PcapWriter(a.output, LT_ETHERNET)
        t = calls_mod.flood(w.write, a.invites, a.seed, sources=a.sources, rate=a.rate)
        w.close()
        if a.truth:
            with open(a.truth, 'w') as g:
                json.dump(t, g, indent=1)
    elif a.cmd == 'hostile':
        w = PcapWriter(a.output, LT_ETHERNET)
        t = hostile.generate(w.write, a.kind, a.seed)
        w.close()
        with open(a.truth, 'w') as g:
            json.dump(t, g, indent=1)
    elif a.cmd == 'regstorm':
        w = PcapWriter(a.output, LT_ETHERNET)
        n = registrations.storm(w.write, a.phones)
        w.close()
        print('%s: %d REGISTER messages and answers of %d phones' % (a.output, n, a.phones), file=sys.stderr)
    elif a.cmd == 'registrations':
        w = PcapWriter(a.output, LT_ETHERNET)
        t = registrations.generate(w.write)
        w.close()
        with open(a.truth, 'w') as g:
            json.dump(t, g, indent=1)
    elif a.cmd == 'security':
        w = PcapWriter(a.output, LT_ETHERNET)
        t = security.scan_flood(w.write, a.scan_flood) if a.scan_flood else security.generate(w.write, only=a.only)
        w.close()
        with open(a.truth, 'w') as g:
            json.dump(t, g, indent=1)
    elif a.cmd == 'scenarios':
        w = PcapWriter(a.output, LT_ETHERNET)
        t = scenarios.generate(w.write)
        w.close()
        with open(a.truth, 'w') as g:
            json.dump(t, g, indent=1)
    elif a.cmd == 'xprobe':
        wa, wb = PcapWriter(a.output, LT_ETHERNET), PcapWriter(a.output_b, LT_ETHERNET)
        t = xprobe.generate(wa.write, wb.write)
        wa.close()
        wb.close()
        with open(a.truth, 'w') as g:
            json.dump(t, g, indent=1)
    elif a.cmd == 'issues':
        w = PcapWriter(a.output, LT_ETHERNET)
        t = issues.generate(w.write)
        w.close()
        with open(a.truth, 'w') as g:
            json.dump(t, g, indent=1)
    elif a.cmd == 'audio':
        w = PcapWriter(a.output, LT_ETHERNET)
        t = hear.generate(w.write)
        w.close()
        with open(a.truth, 'w') as g:
            json.dump(t, g, indent=1)
    elif a.cmd == 'paths':
        w = PcapWriter(a.output, LT_ETHERNET)
        m = MirrorWriter(w.write) if a.mirror else None
        hw = HepTraceWriter(m.write if m else w.write, hep_only=a.hep_only) if a.hep or a.hep_only else None
        t = paths.generate(hw.write if hw else m.write if m else w.write)
        if hw:
            hw.close({s['hosts'][k] for s in t['scenarios'] for k in s['tracers']})
            t.update(hep_copies=hw.copies, hep_before_wire=hw.before, hep_max_skew_ms=hw.max_skew_ns / 1e6)
            t['frames'] = hw.written
        if m:
            m.close()
            t['mirror_copies'] = t['frames']
            t['frames'] *= 2
        w.close()
        with open(a.truth, 'w') as g:
            json.dump(t, g, indent=1)
    elif a.cmd == 'delaystep':
        w = PcapWriter(a.output, LT_ETHERNET)
        t = delaystep.generate(w.write)
        w.close()
        with open(a.truth, 'w') as g:
            json.dump(t, g, indent=1)
    elif a.cmd == 'sample':
        os.makedirs(a.dir, exist_ok=True)
        write_calls(os.path.join(a.dir, 'sample.pcap'), os.path.join(a.dir, 'sample.truth.json'),
                    calls=6, duration=20, concurrency=3, seed=7, loss=0.01,
                    outcomes=['answered', 'answered', 'busy', 'answered', 'cancelled', 'answered'])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
