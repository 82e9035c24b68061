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
import bisect
import struct
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


def pcap_records(path):
    """How many records a classic pcap file holds (the exports are classic pcap)."""
    n = 0
    with open(path, 'rb') as f:
        head = f.read(24)
        endian = '<' if head[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return n
            f.seek(struct.unpack(endian + 'IIII', rec)[2], 1)
            n += 1


def per_file_rows(pcaps, allf, display_filter, fields):
    """tshark's rows for each of pcaps, from one tshark run over their concatenation (tshark's
    start-up, not its reading, is what a run per file costs), written to allf: each row goes
    back to its file by its frame number."""
    if not pcaps:
        return []
    subprocess.run(['mergecap', '-a', '-F', 'pcap', '-w', allf] + pcaps, check=True)
    ends, total = [], 0
    for p in pcaps:
        total += pcap_records(p)
        ends.append(total)
    out = [[] for _ in pcaps]
    for row in tshark_rows(allf, display_filter, ['frame.number'] + fields):
        out[bisect.bisect_left(ends, int(row[0]))].append(row[1:])
    return out


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
        exported = []
        for c in j['calls']:
            out = os.path.join(tmp, c['id'] + '.pcap')
            r = subprocess.run([exe, 'export', '--db', dbf, '--call', c['id'], '-o', out],
                               capture_output=True, text=True)
            if r.returncode:
                check(False, '%s: export failed: %s' % (c['id'], r.stderr.strip()))
                continue
            exported.append((c, out))
        rows = per_file_rows([out for _, out in exported], os.path.join(tmp, 'sip-all.pcap'), 'sip', FIELDS)
        for (c, out), got in zip(exported, rows):
            cids = {leg['call_id'] for leg in c['legs']}
            want = [row for row in original if row[5] in cids]
            check(got == want and got, '%s: %d messages exported, tshark finds %d for its Call-IDs'
                  % (c['id'], len(got), len(want)))
        # with media
        mdb = os.path.join(tmp, 'media.db')
        j = analyze(exe, pcap, '--db', mdb, '--spool-rtp')
        omedia, ostreams = media_rows(pcap), rtp_streams(pcap)
        n_media = n_streams = 0
        exported = []
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
            exported.append((c, streams, out))
        merged = os.path.join(tmp, 'media-all.pcap')
        rows = per_file_rows([out for _, _, out in exported], merged, 'rtp || rtcp', MEDIA)
        # each SSRC is in one call's export only (the rows above prove it), so the streams of
        # the concatenation are each export's streams
        estreams = rtp_streams(merged) if exported else {}
        for (c, streams, out), got in zip(exported, rows):
            flows = set()
            for s in streams:
                (sh, sp), (dh, dp) = split_addr(s['src']), split_addr(s['dst'])
                flows |= {(sh, str(sp), dh, str(dp)), (sh, str(sp + 1), dh, str(dp + 1))}
            want = [row for row in omedia if row[1:5] in flows]
            check(got == want and got, '%s: %d RTP/RTCP packets exported, tshark finds %d on its media ports'
                  % (c['id'], len(got), len(want)))
            n_media += len(got)
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
