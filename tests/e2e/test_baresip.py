#!/usr/bin/env python3
"""A real call between two SIP user agents we did not write (issues 24 and 27): Debian's
baresip calls baresip, each with its own configuration folder, in a network namespace the
test makes (its own loopback: no other test's packets, no port taken from them).

Each side's `aufile` source plays a WAV this test writes with the generators' speech-like
noise (tests/gen/audio.py: band-limited noise, a 4-5 Hz syllable envelope, -22 dBov RMS);
no player module is loaded, so what arrives is decoded and dropped (a null sink). The
caller dials through its ctrl_tcp interface once both answer on it, the callee answers by
itself (answermode=auto), the caller hangs up after TALK_S seconds of conversation, and
both are told to quit; every step waits for baresip's own event, never a fixed time.

`sipscope capture -i lo` (its --json, its /metrics) and tcpdump follow the namespace's
loopback at once. Checked:
- one answered, completed call; one stream each way, PCMU, packets as tcpdump's file holds
  (tshark), and both heard as speech at the WAV's level, with no tone and no false issue
  (one_way_audio, silent_call, ringback_silence, codec_mismatch or anything else);
- `analyze` of tcpdump's file against tshark's `-z rtp,streams` of it: packets and lost
  exactly, max delta and max/mean jitter within 0.1 ms or 1 % (the corpus test's bounds).
Mode srtp: both accounts with `mediaenc=srtp-mand` (baresip's SDES, RFC 4568): every SRTP
and SRTCP packet sent after the answer (which makes both keys known) is decrypted, and
the RTCP baresip sends in clear to the SRTP ports is counted as failing authentication,
as tshark's RTCP length check tells the two apart (capture.srtp, /metrics, per stream
srtp_decrypted); both directions are heard as speech; the figures equal tshark's, which
reads SRTP's clear header as RTP's; no key from the SDP reaches the JSON or the log. The same file with the keys
made unavailable (each a=crypto key altered in place: authentication failures; each suite
renamed to one we do not know: keyless) gives streams marked encrypted, counted, measured
from their clear headers (tshark's packets and loss) and never heard (audio null).
Skipped (77) without baresip-core, tcpdump, tshark, ip, or root (a namespace, a capture).

Usage: test_baresip.py PATH/TO/sipscope plain|srtp"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'lib'))
sys.path.insert(0, os.path.join(HERE, '..', 'gen'))
from sstest import Checks, analyze, metrics, poll, skip, stop_capture  # noqa: E402
import audio  # noqa: E402

MODULES = '/usr/lib/baresip/modules'
NEEDED = ['g711.so', 'aufile.so', 'account.so', 'menu.so', 'ctrl_tcp.so', 'srtp.so']
# In the namespace's own loopback. baresip listens for SIP over TCP and TLS beside UDP, on
# the port and the next one: the two UAs' ports are four apart.
UAS = {'caller': dict(sip=5270, ctrl=5280, rtp=(17200, 17209), seed=241),
       'callee': dict(sip=5274, ctrl=5282, rtp=(17220, 17229), seed=242)}
SENTINEL = (5299, b'sipscope test_baresip: end of the call')
TALK_S = 3.0     # the conversation's length: the call's content, not a wait for readiness
WAV_MS = 8000    # longer than the talk, so the source never runs dry
LEVEL = -22.0    # dBov, the speech-like noise's RMS (audio.speech_like)
BAD_ISSUES = ('one_way_audio', 'silent_call', 'ringback_silence', 'no_audio', 'codec_mismatch',
              'false_answer', 'clipping', 'audio_level', 'low_mos', 'packet_loss', 'jitter')


def need():
    if not shutil.which('baresip') or not all(os.path.exists(os.path.join(MODULES, m)) for m in NEEDED):
        return skip('baresip (baresip-core) not installed')
    missing = [t for t in ('tcpdump', 'tshark', 'ip') if not shutil.which(t)]
    if missing:
        return skip('%s not installed' % '/'.join(missing))
    if os.geteuid() != 0:
        return skip('a network namespace and a capture need root')
    return None


def outside(exe, mode):
    """Makes the namespace, runs this script inside it, and removes it."""
    rc = need()
    if rc is not None:
        return rc
    ns = 'ssbaresip-%s-%d' % (mode, os.getpid())
    r = subprocess.run(['ip', 'netns', 'add', ns], capture_output=True, text=True)
    if r.returncode:
        return skip('ip netns add %s: %s' % (ns, r.stderr.strip()))
    try:
        subprocess.run(['ip', 'netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'], check=True)
        return subprocess.run(['ip', 'netns', 'exec', ns, sys.executable, os.path.abspath(__file__), exe, mode,
                               '--inside'], timeout=300).returncode
    finally:
        subprocess.run(['ip', 'netns', 'delete', ns])


# ---- baresip ----------------------------------------------------------------------------

def write_wav(path, seed):
    import random
    pcm = audio.to16(audio.speech_like(random.Random(seed), WAV_MS, LEVEL))
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b''.join(s.to_bytes(2, 'little', signed=True) for s in pcm))


def configure(tmp, role, srtp):
    u = UAS[role]
    d = os.path.join(tmp, role)
    os.mkdir(d)
    wav = os.path.join(d, 'talk.wav')
    write_wav(wav, u['seed'])
    mods = ['g711.so'] + (['srtp.so'] if srtp else []) + ['aufile.so']
    with open(os.path.join(d, 'config'), 'w') as f:
        f.write('\n'.join([
            'poll_method epoll',
            'net_interface 127.0.0.1',  # the SDP's address; else the host's first interface
            'sip_listen 127.0.0.1:%d' % u['sip'],
            'audio_source aufile,%s' % wav,
            'ausrc_srate 8000',
            'rtp_ports %d-%d' % u['rtp'],
            'module_path %s' % MODULES] + ['module %s' % m for m in mods] + [
            'module_app account.so', 'module_app menu.so', 'module_app ctrl_tcp.so',
            'ctrl_tcp_listen 127.0.0.1:%d' % u['ctrl'], '']))
    params = ';regint=0;audio_codecs=PCMU' + (';mediaenc=srtp-mand' if srtp else '')
    if role == 'callee':
        params += ';answermode=auto'
    with open(os.path.join(d, 'accounts'), 'w') as f:
        f.write('<sip:%s@127.0.0.1:%d>%s\n' % (role, u['sip'], params))
    return d


class Ctrl:
    """baresip's ctrl_tcp: JSON commands and events, each a netstring."""

    def __init__(self, port):
        self.s = poll(lambda: self.connect(port), deadline=30, every=0.05)
        self.buf, self.events = b'', []

    @staticmethod
    def connect(port):
        try:
            return socket.create_connection(('127.0.0.1', port), timeout=1)
        except OSError:
            return None

    def send(self, command, params=''):
        b = json.dumps({'command': command, 'params': params, 'token': command}).encode()
        self.s.sendall(b'%d:%s,' % (len(b), b))
        return self.wait(lambda m: m.get('response') and m.get('token') == command)

    def wait(self, match, deadline=30):
        """The first message (past or coming) that match() takes, or None after deadline."""
        end = time.monotonic() + deadline
        while True:
            for m in self.events:
                if match(m):
                    return m
            if time.monotonic() >= end:
                return None
            self.s.settimeout(max(0.05, end - time.monotonic()))
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return None
            self.buf += data
            while b':' in self.buf:
                n, rest = self.buf.split(b':', 1)
                if len(rest) < int(n) + 1:
                    break
                self.events.append(json.loads(rest[:int(n)]))
                self.buf = rest[int(n) + 1:]

    def event(self, kind, deadline=30):
        return self.wait(lambda m: m.get('event') and m.get('type') == kind, deadline)


def place_call(check, tmp, srtp):
    """Both UAs up, the call dialled, talked, hung up; both told to quit."""
    procs = {}
    try:
        for role in ('callee', 'caller'):
            d = configure(tmp, role, srtp)
            procs[role] = subprocess.Popen(['baresip', '-f', d], stdin=subprocess.DEVNULL,
                                           stdout=open(os.path.join(tmp, role + '.log'), 'w'),
                                           stderr=subprocess.STDOUT)
        callee, caller = Ctrl(UAS['callee']['ctrl']), Ctrl(UAS['caller']['ctrl'])
        check(callee.s and caller.s, 'both baresips answer on ctrl_tcp')
        if not (callee.s and caller.s):
            return False
        r = caller.send('dial', 'sip:callee@127.0.0.1:%d' % UAS['callee']['sip'])
        check(r and r.get('ok'), 'the caller dials: %s' % r)
        up = caller.event('CALL_ESTABLISHED') and callee.event('CALL_ESTABLISHED')
        check(up, 'the call is established on both sides')
        if not up:
            return False
        rtp = caller.event('CALL_RTPESTAB', 10) and callee.event('CALL_RTPESTAB', 10)
        check(rtp, 'both sides receive RTP')
        time.sleep(TALK_S)
        caller.send('hangup')
        closed = caller.event('CALL_CLOSED') and callee.event('CALL_CLOSED')
        check(closed, 'the call is closed on both sides')
        for c in (caller, callee):
            c.send('quit')
        for role, p in procs.items():
            check(p.wait(timeout=30) == 0, 'baresip %s quits with status 0' % role)
        return bool(closed)
    finally:
        for role, p in procs.items():
            if p.poll() is None:
                p.kill()
                p.wait()
            if p.returncode:
                print('--- %s.log:\n%s' % (role, open(os.path.join(tmp, role + '.log'), errors='replace')
                                         .read()[-3000:]))


# ---- captures ---------------------------------------------------------------------------

def start_captures(exe, tmp):
    """tcpdump and `sipscope capture`, both on lo, both ready: (tcpdump, capture, API port,
    tcpdump's file, what tcpdump said first)."""
    cap = os.path.join(tmp, 'call.pcap')
    dump = subprocess.Popen(['tcpdump', '-i', 'lo', '-U', '--immediate-mode', '-s', '0', '-w', cap, 'udp'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = dump.stderr.readline()  # "listening on lo, ..." once the device and the file are open
    live = subprocess.Popen([exe, 'capture', '-i', 'lo', '-f', 'udp', '--json', '--no-progress',
                             '--stream-idle', '1', '--db', os.path.join(tmp, 'live.db'), '--serve', '127.0.0.1:0'],
                            stdout=open(os.path.join(tmp, 'live.json'), 'w'), stderr=subprocess.PIPE, text=True)
    port = None
    for _ in range(5):  # "serving http on port N", then "capturing on lo"
        ln = live.stderr.readline()
        m = re.search(r'serving http on port (\d+)', ln)
        port = int(m.group(1)) if m else port
        if 'capturing' in ln or not ln:
            break
    return dump, live, port, cap, line.strip()


def finish_captures(check, dump, live, port, cap):
    """Stops both once everything of the call is in: tcpdump once a datagram sent after the
    call is in its file (loopback delivers in order), sipscope once /metrics counts the
    call handed on. Returns the live JSON document and sipscope's stderr."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(SENTINEL[1], ('127.0.0.1', SENTINEL[0]))
    check(poll(lambda: SENTINEL[1] in open(cap, 'rb').read(), deadline=30, every=0.05),
          'tcpdump wrote the datagram sent after the call')
    handed = poll(lambda: sum(v for k, v in metrics(port).items() if k.startswith('sipscope_calls_total{')) >= 1,
                  deadline=30, every=0.1)
    check(handed, 'sipscope capture handed the call on (/metrics)')
    mx = metrics(port)
    stop_capture(dump)
    rc, err = stop_capture(live)
    check(rc == 0, 'capture ends on SIGINT with status 0 (%s): %s' % (rc, err.strip()[-300:]))
    try:
        j = json.load(open(os.path.join(os.path.dirname(cap), 'live.json')))
    except ValueError as e:
        check(False, 'capture --json: %s' % e)
        j = None
    return j, mx, err


# ---- the truth from tshark --------------------------------------------------------------

def tshark(cap):
    """One pass of tshark over the capture (its start-up is most of its time): each SDP's
    audio port, profile, a=crypto lines and frame by the SIP port that sent it; each UDP
    datagram (frame, source and destination port, whether tshark's RTCP length check holds);
    and `-z rtp,streams` by (source port, destination port): SSRC and figures. tshark follows
    the ports each SDP names as RTP and RTCP, and reads SRTP's clear header as RTP's."""
    out = subprocess.run(['tshark', '-r', cap, '-T', 'fields', '-e', 'frame.number', '-e', 'udp.srcport',
                          '-e', 'udp.dstport', '-e', 'rtcp.length_check', '-e', 'sdp.media.port',
                          '-e', 'sdp.media.proto', '-e', 'sdp.media_attr', '-z', 'rtp,streams'],
                         check=True, capture_output=True, text=True).stdout
    rows, stats = out.split('=== RTP Streams ===', 1) if '=== RTP Streams ===' in out else (out, '')
    sdps, packets, streams = {}, [], {}
    for line in rows.splitlines():
        f = line.split('\t')
        if len(f) < 7 or not f[0].isdigit() or not f[1].isdigit():
            continue
        frame, sport, dport = int(f[0]), int(f[1]), int(f[2])
        packets.append((frame, sport, dport, f[3].strip() in ('1', 'True')))
        if f[4]:
            sdps[sport] = (int(f[4].split(',')[0]), f[5], [a for a in f[6].split(',') if a.startswith('crypto:')],
                           frame)
    for line in stats.splitlines():
        f = line.split()
        if len(f) > 12 and f[6].startswith('0x'):
            streams[(int(f[3]), int(f[5]))] = (int(f[6], 16), f[-9:] if f[-1] != 'X' else f[-10:-1])
    return sdps, packets, streams


def srtp_truth(sdps, packets):
    """The media datagrams as tshark reads them, counted by what the SDES keys can make of
    them. Both keys are known from the answer on (each side's SDP holds the key it sends
    with, RFC 4568 §6.1, and the offer's is paired by the answer's tag), so what came before
    the answer's frame has no key yet. RTCP: tshark's length check holds for a clear
    compound packet (lengths summing to the datagram), never for SRTCP, whose E flag, index
    and tag follow it (RFC 3711 §3.4). baresip sends some RTCP in clear: an APP "PING"
    before its SRTP context is up, and its BYE after it is gone; to a keyed endpoint that is
    an authentication failure, as the receiving side's libsrtp would say."""
    answer = sdps[UAS['callee']['sip']][3]
    media = {u['rtp_port']: 'rtp' for u in UAS.values()}
    media.update({u['rtp_port'] + 1: 'rtcp' for u in UAS.values()})
    n = {'before_answer': 0, 'srtp': 0, 'srtcp': 0, 'clear_rtcp': 0}
    by_dst = {}
    for frame, _, dport, clear in packets:
        kind = media.get(dport)
        if not kind:
            continue
        if frame < answer:
            n['before_answer'] += 1
        elif kind == 'rtp':
            n['srtp'] += 1
            by_dst[dport] = by_dst.get(dport, 0) + 1
        else:
            n['clear_rtcp' if clear else 'srtcp'] += 1
    return n, by_dst


def close(a, b):
    return abs(a - b) <= max(0.1, 0.01 * abs(b))


# ---- checks -----------------------------------------------------------------------------

def stream_paths(check, sdps, srtp):
    """The RTP endpoints from the SDP tshark read; fills UAS[..]['rtp_port']."""
    for role, u in UAS.items():
        m = sdps.get(u['sip'])
        check(m is not None, 'tshark: the %s sent an SDP: %s' % (role, sdps))
        if not m:
            return None
        u['rtp_port'] = m[0]
        want = 'RTP/SAVP' if srtp else 'RTP/AVP'
        check(m[1] == want and bool(m[2]) == srtp, 'tshark: the %s offered %s %s' % (role, m[1], m[2]))
    c, e = UAS['caller']['rtp_port'], UAS['callee']['rtp_port']
    return {'caller_to_callee': (c, e), 'callee_to_caller': (e, c)}


def heard_checks(check, where, s):
    a = s.get('audio') or {}
    # the WAV is speech-like noise whose envelope never falls below a third of its peak:
    # active nearly all through, at its RMS level (G.711 quantisation moves it by < 1 dB)
    check(a.get('codec') == 'PCMU' and (a.get('active_pct') or 0) >= 80, '%s: heard as speech (active %s %%, %s)'
          % (where, a.get('active_pct'), s.get('audio_unavailable')))
    lvl = a.get('speech_level_dbov')
    check(lvl is not None and abs(lvl - LEVEL) <= 3, '%s: speech level %s dBov, the WAV\'s %s' % (where, lvl, LEVEL))
    check(a.get('tones') == [] and not a.get('clipped_samples'), '%s: no tone, no clipping: %s, %s'
          % (where, a.get('tones'), a.get('clipped_samples')))


def live_checks(check, j, mx, err, truth, paths, srtp, keys, counts):
    calls = j['calls']
    check(len(calls) == 1 and calls[0]['state'] == 'completed' and calls[0].get('answer_time') is not None
          if calls else False, 'live: one answered, completed call: %s' % [(c['state']) for c in calls])
    streams = {(int(s['src'].rsplit(':', 1)[1]), int(s['dst'].rsplit(':', 1)[1])): s for s in j['streams']}
    check(len(j['streams']) == 2, 'live: two streams: %s' % sorted(streams))
    n_rtp = 0
    for name, path in paths.items():
        s = streams.get(path, {})
        t = truth.get(path)
        check(t is not None, 'tshark: a stream %s %s' % (name, path))
        if not t:
            continue
        n_rtp += int(t[1][0])
        check(s.get('packets') == int(t[1][0]) and s.get('ssrc') == '0x%08x' % t[0] and s.get('codec') == 'PCMU',
              'live %s: %s packets, SSRC %s, %s; tshark %s, %#x' % (name, s.get('packets'), s.get('ssrc'),
                                                                   s.get('codec'), t[1][0], t[0]))
        heard_checks(check, 'live %s' % name, s)
        if srtp:
            check(s.get('srtp_decrypted') is True and s.get('encrypted') is False
                  and s.get('srtp_auth_failures') == 0, 'live %s: decrypted (%s, encrypted %s, %s failures)'
                  % (name, s.get('srtp_decrypted'), s.get('encrypted'), s.get('srtp_auth_failures')))
        else:
            check(s.get('srtp_decrypted') is False and s.get('encrypted') is False, 'live %s: not SRTP' % name)
    issues = [(i['kind'], i['severity']) for i in j['issues']]
    check(not [i for i in issues if i[0] in BAD_ISSUES or i[1] != 'info'],
          'live: no false issue about a call that worked: %s' % issues)
    sc = j['capture'].get('srtp', {})
    if srtp:
        n = counts
        print('tshark: SRTP and RTCP datagrams %s' % n)
        check(sc.get('decrypted') == n['srtp'] + n['srtcp'] and n['srtcp'] > 0
              and sc.get('srtp_auth_failures') == n['clear_rtcp'] and sc.get('keyless') == 0,
              'live: capture.srtp %s; tshark: %s' % (sc, n))
        check(mx.get('sipscope_srtp_decrypted_total') == sc.get('decrypted')
              and mx.get('sipscope_srtp_auth_failures_total') == sc.get('srtp_auth_failures')
              and mx.get('sipscope_srtp_endpoints_keyed') == 2,
              '/metrics: SRTP counters as capture.srtp (%s)' % {k: v for k, v in mx.items() if '_srtp_' in k})
        text = json.dumps(j) + err
        check(keys and not any(k in text or k[:16] in text for k in keys), 'live: no SDES key in the JSON or log')
    else:
        check(sc.get('decrypted') == 0 and sc.get('keyless') == 0, 'live: nothing SRTP: %s' % sc)


def file_checks(check, exe, cap, truth, paths):
    j = analyze(exe, cap)
    streams = {(int(s['src'].rsplit(':', 1)[1]), int(s['dst'].rsplit(':', 1)[1])): s for s in j['streams']}
    for name, path in paths.items():
        s, t = streams.get(path, {}), truth.get(path)
        if not t:
            continue
        f = t[1]
        got = (s.get('packets'), s.get('lost'), s.get('max_delta_ms'), s.get('max_jitter_ms'),
               s.get('mean_jitter_ms'))
        want = (int(f[0]), int(f[1]), float(f[5]), float(f[8]), float(f[7]))
        ok = got[:2] == want[:2] and all(g is not None and close(g, w) for g, w in zip(got[2:], want[2:]))
        check(ok, 'analyze %s: packets, lost, max delta, max and mean jitter %s; tshark %s' % (name, got, want))
    return j


def keyless_checks(check, exe, cap, tmp, truth, paths, n, by_dst):
    """The same capture with its SDES keys unavailable, two ways."""
    data = open(cap, 'rb').read()
    keys = re.findall(rb'inline:([A-Za-z0-9+/=]{40})', data)
    check(len(set(keys)) == 2, 'two SDES keys in the capture\'s SDP (%d)' % len(set(keys)))
    # a key altered in place (the same length: the frame stays whole): it authenticates nothing
    bad = data
    for k in set(keys):
        bad = bad.replace(b'inline:' + k, b'inline:' + (b'B' if k[:1] != b'B' else b'C') + k[1:])
    # a suite renamed to one no one knows: the SDP says SRTP and gives no usable key
    unknown = data.replace(b'AES_CM_128_HMAC_SHA1_80', b'AES_CM_128_HMAC_SHA1_99')
    check(bad != data and unknown != data, 'the captures without keys differ from the call\'s')
    keyed = n['srtp'] + n['srtcp'] + n['clear_rtcp']  # every datagram to a media port after the answer
    for how, body in (('wrong key', bad), ('unknown suite', unknown)):
        p = os.path.join(tmp, how.replace(' ', '_') + '.pcap')
        open(p, 'wb').write(body)
        j = analyze(exe, p)
        sc = j['capture'].get('srtp', {})
        streams = {(int(s['src'].rsplit(':', 1)[1]), int(s['dst'].rsplit(':', 1)[1])): s for s in j['streams']}
        for name, path in paths.items():
            s, t = streams.get(path, {}), truth.get(path)
            if not t:
                continue
            check(s.get('encrypted') is True and s.get('srtp_decrypted') is False,
                  '%s, %s: marked encrypted, not decrypted' % (how, name))
            check(s.get('audio') is None and str(s.get('audio_unavailable')).startswith('encrypted'),
                  '%s, %s: never heard (audio %s, unavailable %r)' % (how, name, s.get('audio'),
                                                                    s.get('audio_unavailable')))
            check(s.get('packets') == int(t[1][0]) and s.get('lost') == int(t[1][1]) and s.get('ssrc') == '0x%08x' % t[0],
                  '%s, %s: measured from the clear header, %s packets %s lost; tshark %s, %s'
                  % (how, name, s.get('packets'), s.get('lost'), t[1][0], t[1][1]))
            fails = s.get('srtp_auth_failures')
            want = by_dst.get(path[1], -1) if how == 'wrong key' else 0
            check(fails == want, '%s, %s: %s authentication failures; tshark: %d SRTP packets after the answer'
                  % (how, name, fails, by_dst.get(path[1], -1)))
        check(sc.get('decrypted') == 0, '%s: nothing decrypted (%s)' % (how, sc))
        counted = sc.get('srtp_auth_failures' if how == 'wrong key' else 'keyless')
        check(counted == keyed and sc.get('srtp_auth_failures' if how != 'wrong key' else 'keyless') == 0,
              '%s: %s; tshark: %d datagrams to the media ports after the answer' % (how, sc, keyed))
        calls = j['calls']
        check(len(calls) == 1 and calls[0]['state'] == 'completed', '%s: the call is still read' % how)
        heard = [i['kind'] for i in j['issues'] if i['kind'] in BAD_ISSUES]
        check(not heard, '%s: no issue made up from ciphertext: %s' % (how, heard))


def inside(exe, mode):
    srtp = mode == 'srtp'
    check = Checks()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        dump, live, port, cap, said = start_captures(exe, tmp)
        ready = 'listening on lo' in said
        try:
            check(ready and port, 'tcpdump and sipscope capture are listening on lo (%r, API port %s)' % (said, port))
            placed = bool(ready and port) and place_call(check, tmp, srtp)
        except BaseException:
            placed = False
            raise
        finally:
            if not placed:
                for p in (dump, live):
                    p.kill()
                    p.wait()
        if not placed:
            return check.done()
        j, mx, err = finish_captures(check, dump, live, port, cap)
        sdps, packets, truth = tshark(cap)
        paths = stream_paths(check, sdps, srtp)
        if j is None or paths is None:
            return check.done()
        keys = [k.decode() for k in re.findall(rb'inline:([A-Za-z0-9+/=]{40})', open(cap, 'rb').read())]
        counts, by_dst = srtp_truth(sdps, packets) if srtp else (None, None)
        live_checks(check, j, mx, err, truth, paths, srtp, keys, counts)
        fj = file_checks(check, exe, cap, truth, paths)
        for name, path in paths.items():
            s = next((x for x in fj['streams'] if x['src'].endswith(':%d' % path[0])
                      and x['dst'].endswith(':%d' % path[1])), {})
            heard_checks(check, 'analyze %s' % name, s)
        if srtp:
            keyless_checks(check, exe, cap, tmp, truth, paths, counts, by_dst)
    print('test_baresip %s: %.1f s' % (mode, time.monotonic() - t0))
    return check.done()


if __name__ == '__main__':
    if len(sys.argv) > 3 and sys.argv[3] == '--inside':
        sys.exit(inside(sys.argv[1], sys.argv[2]))
    sys.exit(outside(sys.argv[1], sys.argv[2]))
