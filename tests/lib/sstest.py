"""What the Python tests share: counting checks into the closing 'N passed, N failed' line,
running sipscope, generating captures with tests/gen/sipgen.py, finding the corpus."""
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SIPGEN = os.path.join(HERE, '..', 'gen', 'sipgen.py')
SKIP = 77  # meson's exit code for a skipped test
SIPP_PCAP = '/usr/share/sip-tester/g711a.pcap'  # sipp's sample RTP (236 packets, capinfos)


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def __call__(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print('FAIL:', what)
        return cond

    def done(self):
        """Prints the closing line and returns the exit code. A test that made no check
        has proved nothing: it fails (issue 22)."""
        if not self.passed and not self.failed:
            self.failed += 1
            print('FAIL: the test made no check')
        print('%d passed, %d failed' % (self.passed, self.failed))
        return 1 if self.failed else 0


def in_ci():
    """True under .ci/run (CI=true), where the project's own scripts installed every
    reference a test needs and ../shared/corpus lies beside the repository."""
    return os.environ.get('CI', '').lower() in ('true', '1', 'yes')


def skip(reason):
    """The exit code of a test that cannot run here: meson's skip (77) on a developer's
    machine, but a failure in CI, where a missing corpus, tshark, sipp or browser would
    otherwise leave a green run that checked nothing against its references (issue 22)."""
    if in_ci():
        print('FAIL: %s, and CI=true: a missing reference fails the test' % reason)
        print('0 passed, 1 failed')
        return 1
    print('%s: skipped' % reason)
    return SKIP


def need_ci(check, present, what):
    """For checks a test makes only when a reference is present: outside CI their absence
    is said aloud; in CI it is a failed check."""
    if not present:
        if in_ci():
            check(False, '%s absent, and CI=true' % what)
        else:
            print('%s absent: its checks skipped' % what)
    return present


def poll(cond, deadline=60, every=0.1):
    """Waits for a condition instead of sleeping a fixed time (issue 22): calls cond() until
    it returns a true value or `deadline` seconds have passed, and returns its last value.
    The deadline is generous on purpose: it bounds a hang, it is not a measurement, so a
    loaded host only makes the test slower, never wrong."""
    end = time.monotonic() + deadline
    while True:
        v = cond()
        if v or time.monotonic() >= end:
            return v
        time.sleep(every)


def metrics(port, host='127.0.0.1'):
    """A running sipscope's /metrics: {'name' or 'name{labels}': value}."""
    text = urllib.request.urlopen('http://%s:%d/metrics' % (host, port), timeout=30).read().decode()
    return {k: float(v) for k, v in re.findall(r'^(sipscope_[a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$', text, re.M)}


def analyze(exe, pcap, *args):
    """`sipscope analyze --json` on pcap, parsed."""
    r = subprocess.run([exe, 'analyze', '--json', '--no-progress', *args, pcap], check=True,
                       capture_output=True, text=True)
    return json.loads(r.stdout)


def generate(kind, pcap, truth, *args):
    """Writes a capture with tests/gen/sipgen.py KIND and returns its truth."""
    subprocess.run([sys.executable, SIPGEN, kind, '-o', pcap, '--truth', truth, *args], check=True,
                   capture_output=True)
    return json.load(open(truth))


def corpus():
    """(corpus dir, sorted capture names), or None when ../shared/corpus is absent."""
    c = os.environ.get('SIPSCOPE_CORPUS', '')
    p = os.path.join(c, 'pcap')
    return (c, sorted(os.listdir(p))) if c and os.path.isdir(p) else None


def tshark_rtp_streams(pcap):
    """tshark's `-z rtp,streams` rows, each (src port, dst port, SSRC, figures): figures are
    the last nine columns as printed (packets, lost, "(pct)", min/mean/max delta, min/mean/max
    jitter), without the problem mark."""
    out = subprocess.run(['tshark', '-r', pcap, '-q', '-z', 'rtp,streams'], check=True, capture_output=True,
                         text=True).stdout
    rows = []
    for line in out.splitlines():
        f = line.split()
        if len(f) > 12 and f[6].startswith('0x'):
            rows.append((int(f[3]), int(f[5]), int(f[6], 16), f[-9:] if f[-1] != 'X' else f[-10:-1]))
    return rows


def check_after_kill(check, dbf, n, last):
    """A database whose writer was killed after reporting n calls committed, the last
    call-`last`: it passes integrity_check, holds at least those calls and that one, each
    with its messages. Returns the highest call number stored."""
    db = sqlite3.connect(dbf)
    check(db.execute('PRAGMA integrity_check').fetchone()[0] == 'ok', 'integrity_check ok after the kill')
    stored = db.execute('SELECT count(*) FROM calls').fetchone()[0]
    print('killed after %d calls reported committed (last call-%d); %d calls in the database'
          % (n, last, stored))
    check(stored >= n, '%d calls stored, %d reported committed before the kill' % (stored, n))
    check(db.execute('SELECT count(*) FROM calls WHERE seq = ?', (last,)).fetchone()[0] == 1,
          'the last call reported committed (call-%d) is there' % last)
    bare = db.execute('SELECT count(*) FROM calls c WHERE NOT EXISTS'
                      ' (SELECT 1 FROM messages m WHERE m.call_seq = c.seq)').fetchone()[0]
    check(bare == 0, 'every stored call has its messages (%d without)' % bare)
    top = db.execute('SELECT max(seq) FROM calls').fetchone()[0]
    db.close()
    return top


def udp_ports():
    """Local UDP ports bound on this host now (/proc/net/udp): a peer started in the
    background listens once its port is in it."""
    with open('/proc/net/udp') as f:
        return {int(line.split()[1].split(':')[1], 16) for line in list(f)[1:]}


def free_port():
    """A port free for UDP and for TCP at once: --hep-listen takes both (a UDP-free port
    could be a TCP port another test of a parallel run holds)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(('127.0.0.1', 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind(('127.0.0.1', port))
                    return port
                except OSError:
                    continue


def stop_capture(cap):
    """SIGINT to a running `sipscope capture` (stderr a pipe): (exit status or 'hung',
    what it said on stderr)."""
    cap.send_signal(signal.SIGINT)
    try:
        rc = cap.wait(timeout=60)
    except subprocess.TimeoutExpired:
        cap.kill()
        rc = 'hung'
    err = cap.stderr.read()
    cap.stderr.close()
    return rc, err


def sipp_live_skip(*tools):
    """What a live test with real sipp needs: sipp and its sample RTP, the other tools
    named, and root to capture on lo. None when all are here, else skip()'s exit code."""
    if not shutil.which('sipp') or not os.path.exists(SIPP_PCAP):
        return skip('sipp (sip-tester) not installed')
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        return skip('%s not installed' % '/'.join(missing))
    if os.geteuid() != 0:
        return skip('capturing on lo needs root')
    return None
