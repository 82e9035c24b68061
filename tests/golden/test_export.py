#!/usr/bin/env python3
"""`sipscope export`: every call of the issue scenarios, stored with `analyze --db` and
exported as a pcap, reads in tshark as the same SIP messages (time, addresses, Call-ID,
CSeq, method, status) as tshark finds for that call's Call-IDs in the original capture.

With `--spool-rtp`, the export also holds the call's media: tshark finds in it the same
RTP and RTCP packets (time, addresses, SSRC, sequence number, RTCP packet type) as in
the original capture on the call's media ports (the ones its streams used, and RTCP on
the port above), and `tshark -z rtp,streams` reports the same figures for each of the
call's streams. tshark is the reference here, not sipscope. Skipped (77) without tshark.

Usage: test_export.py PATH/TO/sipscope"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from sstest import Checks, analyze, generate, skip, tshark_rtp_streams  # noqa: E402

FIELDS = ['frame.time_epoch', 'ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport', 'sip.Call-ID',
          'sip.CSeq', 'sip.Method', 'sip.Status-Code']


MEDIA = ['frame.time_epoch', 'ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport', 'rtp.ssrc', 'rtp.seq',
         'rtcp.pt']


def tshark_rows(pcap, display_filter, fields):
    args = ['tshark', '-r', pcap, '-Y', display_filter, '-T', 'fields']
    for f in fields:
        args += ['-e', f]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [tuple(line.split('\t')) for line in out.splitlines()]


def sip_rows(pcap):
    return tshark_rows(pcap, 'sip', FIELDS)


def without_mirror_copies(rows):
    """The rows (time first) without those that repeat an earlier one, time aside, less than
    5 ms after it: a mirror port's second copy, which analyze drops before analysis (the
    issues capture has one, scenario "mirrordup"); and how many there were."""
    first, out = {}, []
    for row in rows:
        t, key = float(row[0]), row[1:]
        if key in first and 0 <= t - first[key] <= 0.005:
            continue
        first[key] = t
        out.append(row)
    return out, len(rows) - len(out)


def media_rows(pcap):
    return tshark_rows(pcap, 'rtp || rtcp', MEDIA)


def rtp_streams(pcap):
    """tshark's rtp,streams rows by SSRC: packets, lost, max delta, max and mean jitter."""
    return {ssrc: fig for _, _, ssrc, fig in tshark_rtp_streams(pcap)}


def split_addr(a):
    host, _, port = a.rpartition(':')
    return host.strip('[]'), int(port)


def main(exe):
    if not shutil.which('tshark'):
        return skip('tshark not installed')
    check = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, 'i.pcap')
        generate('issues', pcap, os.path.join(tmp, 'i.json'))
        dbf = os.path.join(tmp, 'out.db')
        j = analyze(exe, pcap, '--db', dbf)
        original, copies = without_mirror_copies(sip_rows(pcap))
        check(copies == j['capture']['duplicates'] == 1,
              'the capture has %d mirror copy of a message, analyze dropped %s' % (copies, j['capture']['duplicates']))
        for c in j['calls']:
            out = os.path.join(tmp, c['id'] + '.pcap')
            r = subprocess.run([exe, 'export', '--db', dbf, '--call', c['id'], '-o', out],
                               capture_output=True, text=True)
            if r.returncode:
                check(False, '%s: export failed: %s' % (c['id'], r.stderr.strip()))
                continue
            cids = {leg['call_id'] for leg in c['legs']}
            want = [row for row in original if row[5] in cids]
            got = sip_rows(out)
            check(got == want and got, '%s: %d messages exported, tshark finds %d for its Call-IDs'
                  % (c['id'], len(got), len(want)))
        # with media
        mdb = os.path.join(tmp, 'media.db')
        j = analyze(exe, pcap, '--db', mdb, '--spool-rtp')
        omedia, ostreams = media_rows(pcap), rtp_streams(pcap)
        n_media = n_streams = 0
        for c in j['calls']:
            streams = [s for s in j['streams'] if s['call'] == c['id']]
            if not streams:
                continue
            out = os.path.join(tmp, c['id'] + '-media.pcap')
            r = subprocess.run([exe, 'export', '--db', mdb, '--call', c['id'], '-o', out],
                               capture_output=True, text=True)
            if r.returncode:
                check(False, '%s: export with media failed: %s' % (c['id'], r.stderr.strip()))
                continue
            flows = set()
            for s in streams:
                (sh, sp), (dh, dp) = split_addr(s['src']), split_addr(s['dst'])
                flows |= {(sh, str(sp), dh, str(dp)), (sh, str(sp + 1), dh, str(dp + 1))}
            want = [row for row in omedia if row[1:5] in flows]
            got = media_rows(out)
            check(got == want and got, '%s: %d RTP/RTCP packets exported, tshark finds %d on its media ports'
                  % (c['id'], len(got), len(want)))
            n_media += len(got)
            estreams = rtp_streams(out)
            for s in streams:
                ssrc = int(s['ssrc'], 16) if isinstance(s['ssrc'], str) else s['ssrc']
                if ssrc in ostreams:
                    n_streams += 1
                    check(estreams.get(ssrc) == ostreams[ssrc], '%s: stream 0x%08x in the export: %s, original %s'
                          % (c['id'], ssrc, estreams.get(ssrc), ostreams[ssrc]))
        print('media exported: %d RTP/RTCP packets of %d calls; %d streams compared with tshark'
              % (n_media, len([c for c in j['calls'] if any(s['call'] == c['id'] for s in j['streams'])]), n_streams))
        check(n_media > 1000 and n_streams > 20, 'media exported: %d packets, %d streams compared' % (n_media, n_streams))
        r = subprocess.run([exe, 'export', '--db', dbf, '--call', 'call-9999', '-o', os.path.join(tmp, 'x.pcap')],
                           capture_output=True, text=True)
        check(r.returncode == 1 and 'no such call' in r.stderr, 'unknown call refused')
    return check.done()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
